"""The web dashboard: server-rendered pages over the same client API, same roles.

Pages are HTML made from Jinja2 templates, with no script and nothing fetched
from elsewhere, so they work offline and every page has a URL that can be
shared. Signing in stores the API token in an HttpOnly, SameSite=Strict cookie;
each page then checks it like the API checks a bearer token (and counts wrong
ones the same way). Lists are paged, sorted and filtered by the server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sluice.client import LocalClient
from sluice.errors import ConfigError, Forbidden, NotFound, SluiceError, Unauthorized
from sluice.server.app import NOT_FOUND
from sluice.server.auth import TooManyFailures, identify

UI = "/ui"
COOKIE = "sluice_token"
PAGE_SIZE = 50
MAX_COMPARED = 5
MONITOR_WINDOWS = 200
TEMPLATES = Path(__file__).with_name("ui_templates")


def mount_ui(app: FastAPI) -> None:
    """Add the dashboard's pages to the team server's app."""
    env = _environment()

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(template).render(request=request, ui=UI, **context)
        return HTMLResponse(html, status_code=status)

    def failure(request: Request, exc: SluiceError, api: LocalClient | None) -> HTMLResponse:
        user = api.user if api is not None else None
        if isinstance(exc, Forbidden):
            return page(request, "error.html.j2", 403, title="Not allowed", message=exc, user=user)
        if isinstance(exc, NOT_FOUND):
            return page(request, "error.html.j2", 404, title="Not found", message=exc, user=user)
        return page(request, "error.html.j2", 422, title="Cannot show this", message=exc, user=user)

    def signed_in(request: Request) -> LocalClient:
        state = request.app.state
        token = request.cookies.get(COOKIE)
        if not token:
            raise Unauthorized("Sign in with your API token.")
        client = request.client.host if request.client else "unknown"
        user = identify(state.ws, state.limiter, client, f"Bearer {token}", "read")
        return LocalClient(state.ws, user)

    async def sign_in(request: Request, back: str | None = None) -> LocalClient | Response:
        """The signed-in client, or what to answer instead: the sign-in page (coming back
        to ``back``, by default this page) or a page saying the role may not."""
        try:
            return await run_in_threadpool(signed_in, request)
        except (Unauthorized, TooManyFailures) as exc:
            query = urlencode({"next": back or str(request.url.path), "why": exc})
            return RedirectResponse(f"{UI}/login?{query}", status_code=303)
        except Forbidden as exc:
            return failure(request, exc, None)

    def view(template: str, build: Any) -> Any:
        """A page: signed-in client in, template context out; errors become pages."""

        async def endpoint(request: Request) -> Response:
            api = await sign_in(request)
            if isinstance(api, Response):
                return api
            try:
                context = await run_in_threadpool(build, api, request)
            except SluiceError as exc:
                return failure(request, exc, api)
            return page(request, template, user=api.user, **context)

        return endpoint

    @app.get(f"{UI}/login", include_in_schema=False)
    def login_form(request: Request, next: str = f"{UI}/", why: str = "") -> HTMLResponse:
        return page(request, "login.html.j2", next=_local(next), why=why, user=None)

    @app.post(f"{UI}/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        token = (form.get("token") or [""])[0].strip()
        target = _local((form.get("next") or [f"{UI}/"])[0])
        state = request.app.state
        client = request.client.host if request.client else "unknown"
        try:
            await run_in_threadpool(
                identify, state.ws, state.limiter, client, f"Bearer {token}", "read"
            )
        except (Unauthorized, TooManyFailures) as exc:
            return page(request, "login.html.j2", 401, next=target, why=exc, user=None)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )
        return response

    @app.post(f"{UI}/logout", include_in_schema=False)
    def logout() -> Response:
        response = RedirectResponse(f"{UI}/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    routes = {
        f"{UI}/": ("projects.html.j2", _projects),
        f"{UI}/runs": ("runs.html.j2", _runs),
        f"{UI}/runs/{{run_id}}": ("run.html.j2", _run),
        f"{UI}/models": ("models.html.j2", _models),
        f"{UI}/models/{{name}}": ("model.html.j2", _model),
        f"{UI}/models/{{name}}/{{version}}": ("version.html.j2", _version),
        f"{UI}/datasets": ("datasets.html.j2", _datasets),
        f"{UI}/datasets/{{name}}/diff": ("diff.html.j2", _diff),
        f"{UI}/datasets/{{name}}/{{version}}": ("dataset.html.j2", _dataset),
        f"{UI}/datasets/{{name}}/{{version}}/validation": ("validation.html.j2", _validation),
        f"{UI}/audit": ("audit.html.j2", _audit),
        f"{UI}/inbox": ("inbox.html.j2", _inbox),
        f"{UI}/compare": ("compare.html.j2", _compare),
        f"{UI}/monitors": ("monitors.html.j2", _monitors),
        f"{UI}/monitors/{{name}}": ("monitor.html.j2", _monitor),
    }
    for path, (template, build) in routes.items():
        app.add_api_route(path, view(template, build), methods=["GET"], include_in_schema=False)

    @app.post(f"{UI}/requests/{{request_id}}/review", include_in_schema=False)
    async def review(request: Request, request_id: int) -> Response:
        """Approve, reject or comment from the inbox; the role is checked as in the API."""
        api = await sign_in(request, back=f"{UI}/inbox")
        if isinstance(api, Response):
            return api
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        field = {k: (v[0] if v else "") for k, v in form.items()}
        if not hmac.compare_digest(field.get("csrf", ""), csrf(request.cookies[COOKIE])):
            return failure(
                request,
                Forbidden("The form is stale or came from another site; reload the inbox."),
                api,
            )
        try:
            await run_in_threadpool(
                api.review, request_id, field.get("decision", ""), field.get("comment", "")
            )
        except SluiceError as exc:
            return failure(request, exc, api)
        return RedirectResponse(f"{UI}/inbox?done={request_id}", status_code=303)

    async def whole_page(request: Request, produce: Callable[[LocalClient], str]) -> Response:
        """A standalone HTML page (a report, a card) for a signed-in user."""
        api = await sign_in(request)
        if isinstance(api, Response):
            return api
        try:
            html = await run_in_threadpool(produce, api)
        except SluiceError as exc:
            return failure(request, exc, api)
        return HTMLResponse(html)

    @app.get(f"{UI}/monitors/{{name}}/results/{{result_id}}", include_in_schema=False)
    async def drift_report(request: Request, name: str, result_id: int) -> Response:
        """A window's drift report: per-feature reference-vs-current distributions."""
        return await whole_page(request, lambda api: api.monitor_report(name, result_id))

    @app.get(f"{UI}/models/{{name}}/{{version}}/card", include_in_schema=False)
    async def card(request: Request, name: str, version: int) -> Response:
        """The model card, as its own page."""
        return await whole_page(request, lambda api: api.card(name, version, "html"))


# -- what each page shows ----------------------------------------------------------------


def _projects(api: LocalClient, request: Request) -> dict[str, Any]:
    return {"standings": [api.project(p["name"]) for p in api.projects()]}


def _runs(api: LocalClient, request: Request) -> dict[str, Any]:
    q = request.query_params
    page_no = max(1, _int(q.get("page"), 1))
    status = q.get("status") or None
    pipeline = q.get("pipeline") or None
    sort = q.get("sort") or "created"
    order = "asc" if q.get("order") == "asc" else "desc"
    found = api.runs(
        limit=PAGE_SIZE + 1,
        offset=(page_no - 1) * PAGE_SIZE,
        pipeline=pipeline,
        status=status,
        sort=sort,
        descending=order == "desc",
    )
    filters = {
        k: v
        for k, v in (("status", status), ("pipeline", pipeline), ("sort", sort), ("order", order))
        if v and (k, v) not in (("sort", "created"), ("order", "desc"))
    }
    return {
        "runs": found[:PAGE_SIZE],
        "page": page_no,
        "more": len(found) > PAGE_SIZE,
        "filters": filters,
        "statuses": ["running", "completed", "failed", "cancelled"],
        "query": lambda **extra: urlencode({**filters, **extra}),
        "sort": sort,
        "order": order,
        "sorted_by": lambda key: urlencode(
            {
                **{k: v for k, v in filters.items() if k not in ("sort", "order")},
                "sort": key,
                "order": "asc" if (sort, order) == (key, "desc") else "desc",
            }
        ),
    }


def _run(api: LocalClient, request: Request) -> dict[str, Any]:
    from sluice.reports import svg

    run = api.run(request.path_params["run_id"])
    made_by = {h: s["name"] for s in run["steps"] for h in s["outputs"].values()}
    edges = [
        (made_by[h], s["name"]) for s in run["steps"] for h in s["inputs"].values() if h in made_by
    ]
    nodes = [
        (s["name"], s["status"], f"{s['status']} {_secs(s['duration'])}".strip())
        for s in run["steps"]
    ]
    graph = svg.dag(nodes, edges, title=f"Steps of run {run['id'][:12]}", link="#step-")
    readers: dict[str, list[str]] = {}
    for s in run["steps"]:
        for h in s["inputs"].values():
            readers.setdefault(h, []).append(s["name"])
    return {
        "run": run,
        "logs": api.run_logs(run["id"]),
        "graph": graph,
        "made_by": made_by,
        "readers": readers,
    }


def _compare(api: LocalClient, request: Request) -> dict[str, Any]:
    """Runs side by side: parameters (differences marked), each candidate's metrics, and
    the metrics logged per step drawn as lines."""
    import json

    from sluice.reports import svg

    ids = list(dict.fromkeys(request.query_params.getlist("run")))[:MAX_COMPARED]
    if len(ids) < 2:
        raise ConfigError(
            f"Expected two to {MAX_COMPARED} runs to compare; got {len(ids)}. Tick them in "
            "the list of runs and press Compare."
        )
    runs = [api.run(i) for i in ids]
    keys = sorted({k for r in runs for k in r["params"]})
    shown = [
        [json.dumps(r["params"].get(k), sort_keys=True, default=str) for r in runs] for k in keys
    ]
    params = [
        {"key": k, "cells": values, "differs": len(set(values)) > 1}
        for k, values in zip(keys, shown, strict=True)
    ]
    tracked = {r["id"]: api.tracked_runs(r["id"]) for r in runs}
    metric_keys = sorted({m for ts in tracked.values() for t in ts for m in t["metrics"]})
    candidates = sorted({t["name"] for ts in tracked.values() for t in ts if t["name"]})
    table = [
        {
            "candidate": c,
            "metric": m,
            "cells": [
                next((t["metrics"].get(m) for t in tracked[r["id"]] if t["name"] == c), None)
                for r in runs
            ],
        }
        for c in candidates
        for m in metric_keys
        if any(m in t["metrics"] for ts in tracked.values() for t in ts if t["name"] == c)
    ]
    charts = []
    for key in metric_keys:
        series: dict[str, Sequence[float]] = {}
        steps: list[int] = []
        for r in runs:
            for t in tracked[r["id"]]:
                history = api.metric_history(t["id"], key) if key in t["metrics"] else []
                if len(history) > 1:
                    series[f"{r['id'][:8]} {t['name']}"] = [p["value"] for p in history]
                    steps = max(steps, [p["step"] for p in history], key=len)
        if series:
            charts.append(svg.lines(steps, series, title=key, x_label="step", y_label=key))
    return {"runs": runs, "params": params, "table": table, "charts": charts}


def _monitors(api: LocalClient, request: Request) -> dict[str, Any]:
    return {"monitors": api.monitors()}


def _monitor(api: LocalClient, request: Request) -> dict[str, Any]:
    """A monitor's windows over time: drifted share, prediction drift and the metric
    against the holdout, drawn as lines; each window links to its drift report."""
    from sluice.reports import svg

    found = api.monitor(request.path_params["name"], last=MONITOR_WINDOWS)
    results = list(reversed(found["results"]))  # oldest first for the charts
    xs = list(range(1, len(results) + 1))
    charts = []
    shares = [_get(r, "data_drift", "share_drifted") for r in results]
    if any(v is not None for v in shares):
        threshold = next((_get(r, "data_drift", "threshold") for r in results), None)
        series = {"drifted share of columns": [_nan(v) for v in shares]}
        if threshold is not None:
            series["threshold"] = [float(threshold)] * len(xs)
        charts.append(svg.lines(xs, series, title="Data drift", x_label="window", y_label="share"))
    values = [_get(r, "performance", "value") for r in results]
    if any(v is not None for v in values):
        metric = next(_get(r, "performance", "metric") for r in results if _get(r, "performance"))
        series = {
            f"{metric} in production": [_nan(v) for v in values],
            f"{metric} on the holdout": [_nan(_get(r, "performance", "holdout")) for r in results],
        }
        charts.append(svg.lines(xs, series, title="Performance", x_label="window", y_label=metric))
    return found | {"windows": results, "charts": charts}


def _get(result: dict[str, Any], *path: str) -> Any:
    value: Any = result.get("summary") or {}
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _nan(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def _models(api: LocalClient, request: Request) -> dict[str, Any]:
    return {"models": api.models()}


def _model(api: LocalClient, request: Request) -> dict[str, Any]:
    name = request.path_params["name"]
    versions = sorted(api.model_versions(name), key=lambda v: -v["version"])
    metrics = sorted({m for v in versions for m in v["metrics"]})
    return {"name": name, "versions": versions, "metrics": metrics}


def _version(api: LocalClient, request: Request) -> dict[str, Any]:
    name, number = request.path_params["name"], _int(request.path_params["version"], 0)
    if number < 1:
        raise NotFound(f"Expected a version number; got {request.path_params['version']!r}.")
    mv = api.version(name, number)
    monitors = [m for m in api.monitors() if m["model_name"] == name]
    requests = [r for r in api.requests() if r["model"] == name and r["version"] == number]
    return {
        "mv": mv,
        "monitors": monitors,
        "requests": requests,
        "graph": _lineage(mv, monitors),
    }


def _lineage(mv: dict[str, Any], monitors: list[dict[str, Any]]) -> Any:
    """Data → pipeline run → version → its aliases (where it is deployed) → the monitors
    following them, drawn as a graph."""
    from sluice.reports import svg

    nodes: list[tuple[str, str, str]] = []
    edges: list[tuple[str, str]] = []
    last = None
    data = mv["training_data"]
    for node in (
        (f"{data['name']}@{data['version']}", "completed", "dataset") if data else None,
        (mv["pipeline_run_id"][:12], "completed", "pipeline run")
        if mv["pipeline_run_id"]
        else None,
        (f"version {mv['version']}", "completed", mv["uri"]),
    ):
        if node is not None:
            nodes.append(node)
            if last is not None:
                edges.append((last, node[0]))
            last = node[0]
    for alias in mv["aliases"]:
        nodes.append((f"@{alias}", "running", "alias"))
        edges.append((f"version {mv['version']}", f"@{alias}"))
        for m in monitors:
            if m["alias"] == alias:
                status = m["latest"]["status"] if m["latest"] else "not run"
                colour = "failed" if status in ("drift", "decay") else "cached"
                nodes.append((f"monitor {m['name']}", colour, status))
                edges.append((f"@{alias}", f"monitor {m['name']}"))
    return svg.dag(nodes, edges, title=f"Lineage of {mv['uri']}")


def _datasets(api: LocalClient, request: Request) -> dict[str, Any]:
    return {"datasets": api.datasets()}


def _dataset(api: LocalClient, request: Request) -> dict[str, Any]:
    from sluice.reports import svg

    name, version = request.path_params["name"], request.path_params["version"]
    ref = name if version == "latest" else f"{name}@{version}"
    found = api.dataset_version(ref)
    pictures = {}
    for column, stats in found["profile"]["columns"].items():
        if stats.get("quantiles") and isinstance(stats.get("min"), int | float):
            pictures[column] = svg.spread(stats["quantiles"], stats["min"], stats["max"])
        elif stats.get("top"):
            pictures[column] = svg.mini_bars([(v, c) for v, c in stats["top"][:8]])
    return {"dv": found, "versions": api.dataset_versions(name), "pictures": pictures}


def _validation(api: LocalClient, request: Request) -> dict[str, Any]:
    name, version = request.path_params["name"], request.path_params["version"]
    against = request.query_params.get("against") or None
    return {"report": api.validate_dataset(f"{name}@{version}", against=against)}


def _diff(api: LocalClient, request: Request) -> dict[str, Any]:
    name = request.path_params["name"]
    a, b = request.query_params.get("a", ""), request.query_params.get("b", "")
    return {"diff": api.dataset_diff(f"{name}@{a}", f"{name}@{b}"), "name": name}


def _inbox(api: LocalClient, request: Request) -> dict[str, Any]:
    """Open requests with their evidence; the forms only where the role may decide."""
    from sluice.governance import allowed

    assert api.user is not None
    may_review = allowed(api.user.role, "approvals.review")
    waiting = []
    champions: dict[str, dict[str, Any] | None] = {}  # one lookup per model
    for r in api.requests("open"):
        if r["model"] not in champions:
            try:
                champions[r["model"]] = api.version(r["model"], alias="champion")
            except SluiceError:
                champions[r["model"]] = None
        waiting.append(
            {
                "request": r,
                "version": api.version(r["model"], r["version"]),
                "champion": champions[r["model"]],
                "mine": r["requester"] == api.user.name,
            }
        )
    done = _int(request.query_params.get("done"), 0)
    return {
        "waiting": waiting,
        "may_review": may_review,
        "csrf": csrf(request.cookies.get(COOKIE, "")),
        "decided": api.get_request(done) if done else None,
    }


def csrf(token: str) -> str:
    """The form token that proves a POST came from a page this server made for this
    sign-in (the cookie is SameSite=Strict as well)."""
    return hmac.new(token.encode(), b"sluice-ui-form", hashlib.sha256).hexdigest()


def _audit(api: LocalClient, request: Request) -> dict[str, Any]:
    q = request.query_params
    filters = {k: q.get(k) for k in ("target", "actor", "action") if q.get(k)}
    return {
        "events": api.audit_log(limit=200, **filters),
        "verification": api.audit_verify(),
        "filters": filters,
    }


# -- helpers ----------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["when"] = _when
    env.filters["secs"] = _secs
    env.filters["num"] = _num
    return env


def _when(ts: float | None) -> str:
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")


def _secs(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _local(target: str) -> str:
    """Only a path inside the dashboard may be a redirect target (no open redirect)."""
    return target if target.startswith(f"{UI}/") and not target.startswith("//") else f"{UI}/"
