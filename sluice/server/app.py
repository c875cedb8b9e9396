"""The team server's FastAPI app: read what the store holds, change it as allowed.

Each route checks the caller's role, then answers with the client API on the
server's store acting as the caller, so that a command gives the same result
here as on a local store.

Errors are JSON ``{"error": KIND, "message": ...}``: 401 without a valid token,
403 for a role that may not, 404 for an unknown name, 409 for a name taken, 422
for bad input, 429 after repeated bad tokens. Nothing a client sends gives a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from sluice.client import LocalClient
from sluice.errors import (
    AliasNotFound,
    AlreadyExists,
    ArtifactNotFound,
    ConfigError,
    DataError,
    Forbidden,
    GovernanceError,
    InvalidAlias,
    InvalidModelName,
    InvalidModelURI,
    ModelError,
    ModelNotFound,
    MonitorError,
    MonitorNotFound,
    NotFound,
    RunNotFound,
    SluiceError,
    TokenNotFound,
    Unauthorized,
    UserNotFound,
    VersionNotFound,
)
from sluice.server.auth import FailureLimiter, TooManyFailures, identify
from sluice.workspace import Workspace

API = "/api/v1"
Name = Annotated[str, Path(max_length=200, description="A name, as the CLI shows it.")]

NOT_FOUND = (
    NotFound,
    ArtifactNotFound,
    ModelNotFound,
    VersionNotFound,
    AliasNotFound,
    RunNotFound,
    MonitorNotFound,
    UserNotFound,
    TokenNotFound,
)
STATUS: list[tuple[type[Exception] | tuple[type[Exception], ...], int]] = [
    (TooManyFailures, 429),  # most specific first
    (Unauthorized, 401),
    (Forbidden, 403),
    (AlreadyExists, 409),
    (NOT_FOUND, 404),
    (
        (
            ConfigError,
            DataError,
            InvalidAlias,
            InvalidModelName,
            InvalidModelURI,
            ModelError,
            MonitorError,
        ),
        422,
    ),
    (GovernanceError, 409),  # e.g. reviewing a request that is closed
]


class AliasMove(BaseModel):
    version: int = Field(ge=1, description="The version the alias should point at.")


class NewRequest(BaseModel):
    model: str = Field(min_length=1, max_length=200)
    version: int = Field(ge=1)
    alias: str = Field("production", min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=5000, description="Why, for the reviewers.")


class NewReview(BaseModel):
    decision: str = Field(description="approve, reject or comment.")
    comment: str = Field("", max_length=5000)


class NewProject(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    objective: str = Field(min_length=1, max_length=5000)
    target: str | None = Field(None, max_length=200, description="e.g. rmse <= 60")
    metric: str | None = Field(None, max_length=100)
    owner: str | None = Field(None, max_length=100)
    model: str | None = Field(None, max_length=200)
    dataset: str | None = Field(None, max_length=200)
    approvals: int = Field(1, ge=1, le=10)
    reviewer_roles: list[str] = Field(default_factory=lambda: ["approver", "admin"], max_length=5)
    gates_must_pass: bool = True
    webhook: str | None = Field(None, max_length=2000)
    webhook_secret_env: str | None = Field(None, max_length=200)


class NewMonitor(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    model: str = Field(min_length=1, max_length=300, description="NAME@ALIAS")
    window: str = Field("1d", max_length=30, description="30m, 6h, 1d, 1w or 10000rows")
    reference: str | None = Field(None, max_length=300, description="DATASET@VERSION")
    settings: dict[str, Any] | None = Field(None, description="Thresholds, as the CLI's options")
    actions: list[dict[str, Any]] | None = Field(None, max_length=20)


class NewJob(BaseModel):
    config: dict[str, Any] = Field(description="The sluice.yaml, as a mapping.")
    dataset: str = Field(max_length=300, description="NAME@VERSION of the data sent before.")
    filename: str = Field(max_length=255, description="The data file's name, e.g. day.csv.")


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: str = Field(description="viewer, scientist, engineer, approver or admin.")


class RoleChange(BaseModel):
    role: str = Field(description="viewer, scientist, engineer, approver or admin.")


class NewToken(BaseModel):
    user: str | None = Field(None, max_length=100, description="Default: the caller.")
    label: str = Field("", max_length=100)
    expires_in: float | None = Field(None, gt=0, le=10 * 365 * 86400, description="Seconds.")


def create_app(ws: Workspace, *, limiter: FailureLimiter | None = None) -> FastAPI:
    """The API over ``ws``, one app per process (the store is shared between its threads)."""
    app = FastAPI(
        title="sluice team server",
        summary="Datasets, runs, models and aliases, monitors, users and the audit trail.",
        version="1",
    )
    app.state.ws = ws
    app.state.limiter = limiter or FailureLimiter()

    @app.exception_handler(SluiceError)
    async def sluice_error(request: Request, exc: SluiceError) -> JSONResponse:
        status = next((code for kind, code in STATUS if isinstance(exc, kind)), 400)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyFailures) else {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        body = {"error": type(exc).__name__, "message": str(exc)}
        return JSONResponse(body, status_code=status, headers=headers)

    @app.get("/health", tags=["server"])
    def health() -> dict[str, str]:
        """The server is up (no token needed)."""
        return {"status": "ok"}

    _read_routes(app)
    _data_routes(app)
    _monitor_routes(app)
    _job_routes(app)
    _model_routes(app)
    _approval_routes(app)
    _project_routes(app)
    _people_routes(app)
    from sluice.server.ui import mount_ui

    mount_ui(app)
    return app


def permit(permission: str) -> Callable[..., LocalClient]:
    """A dependency: the client API acting as the calling user, who is allowed ``permission``."""

    def dependency(request: Request) -> LocalClient:
        client = request.client.host if request.client else "unknown"
        state = request.app.state
        user = identify(
            state.ws, state.limiter, client, request.headers.get("authorization"), permission
        )
        return LocalClient(state.ws, user)

    return dependency


Reader = Annotated[LocalClient, Depends(permit("read"))]
DataWriter = Annotated[LocalClient, Depends(permit("data.add"))]
MonitorWriter = Annotated[LocalClient, Depends(permit("monitors.write"))]
Runner = Annotated[LocalClient, Depends(permit("runs.write"))]
AliasMover = Annotated[LocalClient, Depends(permit("models.alias"))]
Requester = Annotated[LocalClient, Depends(permit("approvals.request"))]
ProjectWriter = Annotated[LocalClient, Depends(permit("projects.write"))]
Reviewer = Annotated[LocalClient, Depends(permit("approvals.review"))]
Admin = Annotated[LocalClient, Depends(permit("users.admin"))]
Own = Annotated[LocalClient, Depends(permit("tokens.own"))]
Id = Annotated[int, Path(ge=1, le=2**62)]
Version = Annotated[str, Path(max_length=20, description="A version number, or latest.")]
RunId = Annotated[str, Path(max_length=100, description="A run id or its first characters.")]


def _ref(name: str, version: str) -> str:
    return name if version == "latest" else f"{name}@{version}"


def _read_routes(app: FastAPI) -> None:
    @app.get(f"{API}/whoami", tags=["people"])
    def whoami(api: Reader) -> dict[str, Any]:
        """The token's user and role."""
        return api.whoami()

    @app.get(f"{API}/datasets", tags=["data"])
    def datasets(api: Reader) -> list[dict[str, Any]]:
        """Every dataset with its latest version."""
        return api.datasets()

    @app.get(f"{API}/datasets/{{name}}", tags=["data"])
    def dataset_versions(name: Name, api: Reader) -> list[dict[str, Any]]:
        """A dataset's versions, newest last (without profiles; the CLI shows those)."""
        return api.dataset_versions(name)

    @app.get(f"{API}/datasets/{{name}}/versions/{{version}}", tags=["data"])
    def dataset_version(name: Name, version: Version, api: Reader) -> dict[str, Any]:
        """A version (a number, or ``latest``) with its schema and profile."""
        return api.dataset_version(_ref(name, version))

    @app.get(f"{API}/datasets/{{name}}/versions/{{version}}/validation", tags=["data"])
    def validation(
        name: Name,
        version: Version,
        api: Reader,
        against: Annotated[str | None, Query(max_length=300, description="NAME@VERSION")] = None,
        target: Annotated[str | None, Query(max_length=300)] = None,
    ) -> dict[str, Any]:
        """Anomalies of a version against its own schema, or another version's."""
        return api.validate_dataset(_ref(name, version), against=against, target=target)

    @app.get(f"{API}/dataset-diff", tags=["data"])
    def dataset_diff(
        a: Annotated[str, Query(max_length=300, description="NAME@VERSION")],
        b: Annotated[str, Query(max_length=300, description="NAME@VERSION")],
        api: Reader,
    ) -> dict[str, Any]:
        """Schema and statistics differences from version A to version B."""
        return api.dataset_diff(a, b)

    @app.get(f"{API}/runs", tags=["runs"])
    def runs(
        api: Reader,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
        pipeline: Annotated[str | None, Query(max_length=200)] = None,
        status: Annotated[str | None, Query(max_length=20)] = None,
        sort: Annotated[
            str, Query(max_length=20, description="created, duration, pipeline or status")
        ] = "created",
        order: Annotated[Literal["asc", "desc"], Query()] = "desc",
    ) -> list[dict[str, Any]]:
        """Pipeline runs, a page at a time (``offset`` runs skipped), newest first or by
        ``sort`` and ``order``."""
        return api.runs(
            limit=limit,
            offset=offset,
            pipeline=pipeline,
            status=status,
            sort=sort,
            descending=order == "desc",
        )

    @app.get(f"{API}/runs/{{run_id}}", tags=["runs"])
    def run(run_id: RunId, api: Reader) -> dict[str, Any]:
        """A run (its id or a unique prefix) with each step's status, timing, inputs, outputs."""
        return api.run(run_id)

    @app.get(f"{API}/runs/{{run_id}}/logs", tags=["runs"])
    def run_logs(
        run_id: RunId, api: Reader, step: Annotated[str | None, Query(max_length=200)] = None
    ) -> dict[str, str]:
        """Each step's log in run order, or one step's."""
        return api.run_logs(run_id, step)

    @app.get(f"{API}/runs/{{run_id}}/tracked", tags=["runs"])
    def tracked_runs(run_id: RunId, api: Reader) -> list[dict[str, Any]]:
        """The tracked runs a pipeline run made (the main job: one per candidate)."""
        return api.tracked_runs(run_id)

    @app.get(f"{API}/tracked-runs/{{tracked_id}}/metrics/{{key}}", tags=["runs"])
    def metric_history(
        tracked_id: RunId, key: Annotated[str, Path(max_length=250)], api: Reader
    ) -> list[dict[str, Any]]:
        """Every value a tracked run logged for a metric, by step."""
        return api.metric_history(tracked_id, key)

    @app.get(f"{API}/runs/{{run_id}}/report", tags=["runs"])
    def run_report(run_id: RunId, api: Reader) -> Response:
        """The HTML report of a run of the main job."""
        return Response(api.run_report(run_id), media_type="text/html")

    @app.get(f"{API}/monitors", tags=["monitors"])
    def monitors(api: Reader) -> list[dict[str, Any]]:
        """Monitors with the alias they follow and their latest result."""
        return api.monitors()

    @app.get(f"{API}/monitors/{{name}}", tags=["monitors"])
    def monitor(
        name: Name, api: Reader, last: Annotated[int, Query(ge=1, le=1000)] = 10
    ) -> dict[str, Any]:
        """A monitor with its reference, latest results and alerts."""
        return api.monitor(name, last=last)

    @app.get(f"{API}/monitors/{{name}}/results/{{result_id}}/report", tags=["monitors"])
    def monitor_report(name: Name, result_id: Id, api: Reader) -> Response:
        """A result's HTML drift report."""
        return Response(api.monitor_report(name, result_id), media_type="text/html")

    @app.get(f"{API}/audit", tags=["audit"])
    def audit_events(
        api: Reader,
        target: Annotated[str | None, Query(max_length=500)] = None,
        actor: Annotated[str | None, Query(max_length=200)] = None,
        action: Annotated[str | None, Query(max_length=100)] = None,
        since: Annotated[str | None, Query(max_length=50, description="2026-12-01 or 7d")] = None,
        limit: Annotated[int, Query(ge=1, le=10000)] = 50,
    ) -> list[dict[str, Any]]:
        """Audit events, newest first, filtered like `sluice audit log`."""
        return api.audit_log(target=target, actor=actor, action=action, since=since, limit=limit)

    @app.get(f"{API}/audit/verify", tags=["audit"])
    def audit_verify(api: Reader) -> dict[str, Any]:
        """Walk the whole chain; ``ok`` false names the first broken link."""
        return api.audit_verify()


def _data_routes(app: FastAPI) -> None:
    @app.post(f"{API}/datasets/{{name}}/versions", tags=["data"], status_code=201)
    async def add_dataset(
        name: Name,
        request: Request,
        api: DataWriter,
        filename: Annotated[
            str, Query(max_length=255, pattern=r"^[\w.-]+$", description="e.g. day.csv.gz")
        ],
        target: Annotated[str | None, Query(max_length=300)] = None,
        time_column: Annotated[str | None, Query(max_length=300)] = None,
        source_uri: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> dict[str, Any]:
        """Record the request's body (the bytes of a CSV, .csv.gz or Parquet file named
        ``filename``) as the next version of a dataset."""
        import tempfile
        from pathlib import Path as FilePath

        from starlette.concurrency import run_in_threadpool

        with tempfile.TemporaryDirectory(prefix="sluice-upload-") as folder:
            file = FilePath(folder) / ("upload" + "".join(FilePath(filename).suffixes))
            with file.open("wb") as out:
                async for chunk in request.stream():
                    out.write(chunk)
            return await run_in_threadpool(
                api.add_dataset,
                file,
                name,
                target=target,
                time_column=time_column,
                source_uri=source_uri or f"upload:{filename}",
            )


def _job_routes(app: FastAPI) -> None:
    @app.post(f"{API}/jobs", tags=["runs"])
    def run_job(new: NewJob, api: Runner) -> StreamingResponse:
        """Run the main job on a dataset version sent before (`sluice run` does both).
        The answer streams one JSON object per line: ``{"event": ...}`` as each step
        starts and ends, then ``{"result": {"run_id", "summary", "exit_code"}}``, or
        ``{"error", "message"}`` if it failed after starting. Input errors are answered
        before anything runs, with the usual status codes."""
        import json
        import queue
        import threading
        from dataclasses import asdict

        from sluice.governance import require

        assert api.user is not None
        require(api.user.name, api.user.role, "models.register")  # a job registers versions
        job, plan = api.prepare_job(new.config, dataset=new.dataset, filename=new.filename)
        items: queue.Queue[dict[str, Any] | None] = queue.Queue()

        def work() -> None:
            try:
                done = api.run_planned(
                    job, plan, on_event=lambda e: items.put({"event": asdict(e)})
                )
                items.put({"result": done})
            except SluiceError as exc:
                items.put({"error": type(exc).__name__, "message": str(exc)})
            except Exception as exc:
                logging.getLogger("sluice.server").exception("job failed")
                items.put({"error": "SluiceError", "message": f"The job failed: {exc}"})
            finally:
                items.put(None)

        threading.Thread(target=work, name="sluice-job", daemon=True).start()

        def lines() -> Iterator[str]:
            while (item := items.get()) is not None:
                yield json.dumps(item, default=str) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")


def _monitor_routes(app: FastAPI) -> None:
    @app.post(f"{API}/monitors", tags=["monitors"], status_code=201)
    def create_monitor(new: NewMonitor, api: MonitorWriter) -> dict[str, Any]:
        """Create a monitor of a model alias (a retrain action's config is a path on the
        server)."""
        return api.create_monitor(
            new.name,
            model=new.model,
            window=new.window,
            reference=new.reference,
            settings=new.settings,
            actions=new.actions,
        )

    @app.post(f"{API}/monitors/{{name}}/run", tags=["monitors"])
    def run_monitor(name: Name, api: MonitorWriter) -> dict[str, Any]:
        """Evaluate every window closed since the last run and act on the alerts."""
        return api.run_monitor(name)


def _model_routes(app: FastAPI) -> None:
    @app.get(f"{API}/models", tags=["models"])
    def models(api: Reader) -> list[dict[str, Any]]:
        """Registered models with their aliases."""
        return api.models()

    @app.get(f"{API}/models/{{name}}", tags=["models"])
    def model_versions(name: Name, api: Reader) -> list[dict[str, Any]]:
        """A model's versions."""
        return api.model_versions(name)

    @app.get(f"{API}/models/{{name}}/resolve", tags=["models"])
    def version(
        name: Name,
        api: Reader,
        version: Annotated[int | None, Query(ge=1, le=2**31)] = None,
        alias: Annotated[str | None, Query(max_length=100)] = None,
    ) -> dict[str, Any]:
        """A version by number or alias (neither: the latest), with training data and gates."""
        return api.version(name, version, alias=alias)

    @app.get(f"{API}/models/{{name}}/versions/{{version}}/card", tags=["models"])
    def card(
        name: Name,
        version: Annotated[int, Path(ge=1, le=2**31)],
        api: Reader,
        format: Annotated[str, Query(max_length=10, description="md, html or json")] = "md",
    ) -> Response:
        """The model card: data, metrics, gates, who registered and approved it, monitoring."""
        from sluice.reports.model_card import MEDIA_TYPES

        return Response(api.card(name, version, format), media_type=MEDIA_TYPES[format])

    @app.get(f"{API}/models/{{name}}/versions/{{version}}/artifact", tags=["models"])
    def artifact(
        name: Name, version: Annotated[int, Path(ge=1, le=2**31)], api: Reader
    ) -> Response:
        """The version's model file (skops), hash-checked on the way out; clients check it
        against the version's ``artifact_hash`` on the way in."""
        data, address = api.model_artifact(name, version)
        return Response(
            data, media_type="application/octet-stream", headers={"X-Sluice-Hash": address}
        )

    @app.get(f"{API}/models/{{name}}/versions/{{version}}/bundle", tags=["models"])
    def bundle(name: Name, version: Annotated[int, Path(ge=1, le=2**31)], api: Reader) -> Response:
        """A zip of the version's self-contained bundle (`sluice package` unpacks it)."""
        import json

        data, about = api.bundle_archive(name, version)
        about.pop("folder", None)
        headers = {
            "X-Sluice-Bundle": json.dumps(about),
            "Content-Disposition": f'attachment; filename="{name}-{version}-bundle.zip"',
        }
        return Response(data, media_type="application/zip", headers=headers)

    @app.put(f"{API}/models/{{name}}/aliases/{{alias}}", tags=["models"])
    def move_alias(
        name: Name, alias: Annotated[str, Path(max_length=100)], move: AliasMove, api: AliasMover
    ) -> dict[str, Any]:
        """Point an alias other than production at a version."""
        return api.set_alias(name, move.version, alias)


def _project_routes(app: FastAPI) -> None:
    @app.post(f"{API}/projects", tags=["projects"], status_code=201)
    def create(new: NewProject, api: ProjectWriter) -> dict[str, Any]:
        """Create a project (objective, target, owner, approval policy)."""
        return api.create_project(**new.model_dump())

    @app.get(f"{API}/projects", tags=["projects"])
    def projects(api: Reader) -> list[dict[str, Any]]:
        """Projects with their stage."""
        return api.projects()

    @app.get(f"{API}/projects/{{name}}", tags=["projects"])
    def project(name: Name, api: Reader) -> dict[str, Any]:
        """Where a project stands: data, champion vs target, production, requests, monitors."""
        return api.project(name)

    @app.post(f"{API}/projects/{{name}}/retire", tags=["projects"])
    def retire(name: Name, api: ProjectWriter) -> dict[str, Any]:
        """Mark a project retired (its history stays)."""
        return api.retire_project(name)


def _approval_routes(app: FastAPI) -> None:
    @app.post(f"{API}/requests", tags=["approvals"], status_code=201)
    def request(new: NewRequest, api: Requester) -> dict[str, Any]:
        """Ask for a protected alias to move to a version; someone else must approve."""
        return api.request(new.model, new.version, new.alias, new.reason)

    @app.get(f"{API}/requests", tags=["approvals"])
    def requests(
        api: Reader,
        status: Annotated[
            str | None, Query(max_length=20, description="open, approved, ...")
        ] = None,
    ) -> list[dict[str, Any]]:
        """Approval requests, newest first."""
        return api.requests(status)

    @app.get(f"{API}/requests/{{request_id}}", tags=["approvals"])
    def one_request(request_id: Id, api: Reader) -> dict[str, Any]:
        """One request with its reviews."""
        return api.get_request(request_id)

    @app.get(f"{API}/inbox", tags=["approvals"])
    def inbox(api: Reviewer) -> list[dict[str, Any]]:
        """Open requests the caller may decide (everyone's but their own)."""
        return api.inbox()

    @app.post(f"{API}/requests/{{request_id}}/reviews", tags=["approvals"])
    def add_review(request_id: Id, new: NewReview, api: Reader) -> dict[str, Any]:
        """Approve, reject (approvers and admins, never one's own request) or comment."""
        return api.review(request_id, new.decision, new.comment)


def _people_routes(app: FastAPI) -> None:
    @app.get(f"{API}/users", tags=["people"])
    def users(api: Admin) -> list[dict[str, Any]]:
        """Every user with role and state."""
        return api.users()

    @app.post(f"{API}/users", tags=["people"], status_code=201)
    def add(new: NewUser, api: Admin) -> dict[str, Any]:
        """Add a user."""
        return api.add_user(new.name, new.role)

    @app.put(f"{API}/users/{{name}}/role", tags=["people"])
    def role(name: Name, change: RoleChange, api: Admin) -> dict[str, Any]:
        """Change a user's role."""
        return api.set_role(name, change.role)

    @app.post(f"{API}/users/{{name}}/disable", tags=["people"])
    def disable(name: Name, api: Admin) -> dict[str, Any]:
        """Disable a user: every token of theirs stops working."""
        return api.disable_user(name)

    @app.get(f"{API}/tokens", tags=["people"])
    def tokens(
        api: Own, user: Annotated[str | None, Query(max_length=100)] = None
    ) -> list[dict[str, Any]]:
        """The caller's tokens (an admin sees everyone's, or one user's); never the secrets."""
        return api.tokens(user)

    @app.post(f"{API}/tokens", tags=["people"], status_code=201)
    def create(new: NewToken, api: Own) -> dict[str, Any]:
        """Create a token (for another user: admins only); the secret is in this answer only."""
        return api.create_token(new.user, label=new.label, expires_in=new.expires_in)

    @app.delete(f"{API}/tokens/{{token_id}}", tags=["people"])
    def revoke(token_id: Id, api: Own) -> dict[str, Any]:
        """Revoke a token (another user's: admins only)."""
        return api.revoke_token(token_id)
