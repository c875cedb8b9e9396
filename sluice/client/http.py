"""The client API over HTTP: a team server named by ``SLUICE_TRACKING_URI``, as ``SLUICE_TOKEN``.

Each method asks the server's REST API (under ``/api/v1``) and returns its JSON,
which is what :class:`~sluice.client.local.LocalClient` returns on a local store.
Errors come back as the same typed exceptions, with the server's message.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from sluice import errors
from sluice.errors import ConfigError, SluiceError

if TYPE_CHECKING:
    from sluice.registry import LoadedModel
    from sluice.templates.tabular.config import JobConfig

URI_ENV = "SLUICE_TRACKING_URI"
TOKEN_ENV = "SLUICE_TOKEN"


class HttpClient:
    """A team server at ``url``, acting as the owner of ``token``."""

    def __init__(self, url: str, token: str, *, timeout: float = 60) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"Expected {URI_ENV} to be an http:// or https:// URL; got {url!r}.")
        if not token:
            raise ConfigError(
                f"{URI_ENV} names a team server ({url}) but {TOKEN_ENV} is not set. Set it to "
                "your token (an admin makes one with `sluice tokens create YOU`)."
            )
        self.url = url.rstrip("/")
        self.where = self.url
        self._token = token
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"HttpClient({self.url!r})"

    # -- who, data, runs ------------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        return self._get("/whoami")

    def datasets(self) -> list[dict[str, Any]]:
        return self._get("/datasets")

    def dataset_versions(self, name: str) -> list[dict[str, Any]]:
        return self._get(f"/datasets/{_seg(name)}")

    def dataset_version(self, ref: str) -> dict[str, Any]:
        name, _, version = ref.partition("@")
        return self._get(f"/datasets/{_seg(name)}/versions/{_seg(version or 'latest')}")

    def add_dataset(
        self,
        path: str | os.PathLike[str],
        name: str,
        *,
        target: str | None = None,
        time_column: str | None = None,
        source_uri: str | None = None,
    ) -> dict[str, Any]:
        """Send the file's bytes to the server, which records them as the next version."""
        from sluice.data.read import check_file

        file = check_file(path)
        params = {
            "filename": file.name,
            "target": target,
            "time_column": time_column,
            "source_uri": source_uri or str(file.absolute()),
        }
        clean = {k: v for k, v in params.items() if v is not None}
        with file.open("rb") as body:
            return self._call(
                "POST",
                f"/datasets/{_seg(name)}/versions",
                params=clean,
                content=_chunks(body),
                headers={"Content-Type": "application/octet-stream"},
            )

    def dataset_diff(self, a: str, b: str) -> dict[str, Any]:
        return self._get("/dataset-diff", a=a, b=b)

    def validate_dataset(
        self, ref: str, *, against: str | None = None, target: str | None = None
    ) -> dict[str, Any]:
        name, _, version = ref.partition("@")
        path = f"/datasets/{_seg(name)}/versions/{_seg(version or 'latest')}/validation"
        return self._get(path, against=against, target=target)

    def runs(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        pipeline: str | None = None,
        status: str | None = None,
        sort: str = "created",
        descending: bool = True,
    ) -> list[dict[str, Any]]:
        return self._get(
            "/runs",
            limit=limit,
            offset=offset,
            pipeline=pipeline,
            status=status,
            sort=sort,
            order="desc" if descending else "asc",
        )

    def run(self, run_id: str) -> dict[str, Any]:
        return self._get(f"/runs/{_seg(run_id)}")

    def tracked_runs(self, run_id: str) -> list[dict[str, Any]]:
        return self._get(f"/runs/{_seg(run_id)}/tracked")

    def metric_history(self, tracked_run_id: str, key: str) -> list[dict[str, Any]]:
        return self._get(f"/tracked-runs/{_seg(tracked_run_id)}/metrics/{_seg(key)}")

    def run_logs(self, run_id: str, step: str | None = None) -> dict[str, str]:
        return self._get(f"/runs/{_seg(run_id)}/logs", step=step)

    def run_job(
        self,
        config: JobConfig | Mapping[str, Any] | str | os.PathLike[str],
        *,
        on_event: Callable[[Any], Any] | None = None,
        plan: Any = None,
    ) -> dict[str, Any]:
        """Send the job's data (as a dataset version) and its configuration; the server runs
        it as the token's user and streams each step's progress to ``on_event``. The answer
        is what :meth:`LocalClient.run_job` returns, with the report's address. (The
        server checks the job again; ``plan`` is accepted for symmetry and not sent.)"""
        import json

        import httpx

        from sluice.pipelines.events import EventKind, StepEvent
        from sluice.templates.tabular.config import as_job

        job = as_job(config)
        data = job.data
        sent = self.add_dataset(
            data.path, data.dataset_name, target=data.target, time_column=data.time_column
        )
        body = {
            "config": job.model_dump(mode="json", exclude={"source"}),
            "dataset": sent["ref"],
            "filename": data.path.name,
        }
        headers = {"Authorization": f"Bearer {self._token}"}
        final: dict[str, Any] | None = None
        try:
            with (
                httpx.Client(base_url=self.url, headers=headers, timeout=None) as c,
                c.stream("POST", "/api/v1/jobs", json=body) as response,
            ):
                if response.status_code >= 400:
                    response.read()
                    raise _error(response.status_code, _json(response), self.url)
                for line in response.iter_lines():
                    if not line.strip():
                        continue
                    item = json.loads(line)
                    if "event" in item and on_event is not None:
                        event = item["event"]
                        on_event(StepEvent(**{**event, "kind": EventKind(event["kind"])}))
                    elif "error" in item:
                        raise _error(500, item, self.url)
                    elif "result" in item:
                        final = item["result"]
        except httpx.HTTPError as exc:
            raise ConfigError(
                f"Expected a sluice team server at {self.url} ({URI_ENV}) to run the job; the "
                f"connection failed: {exc}. `sluice runs list` shows whether it ran."
            ) from None
        if final is None:
            raise SluiceError(
                f"The team server at {self.url} ended the job's stream without a result. "
                "`sluice runs list` shows whether it ran; its server log says why."
            )
        final["summary"]["report"] = f"{self.url}/api/v1/runs/{final['run_id']}/report"
        return final

    def run_report(self, run_id: str) -> str:
        return self._call("GET", f"/runs/{_seg(run_id)}/report", raw=True)

    # -- models -----------------------------------------------------------------------

    def models(self) -> list[dict[str, Any]]:
        return self._get("/models")

    def model_versions(self, name: str) -> list[dict[str, Any]]:
        return self._get(f"/models/{_seg(name)}")

    def version(
        self, name: str, version: int | None = None, *, alias: str | None = None
    ) -> dict[str, Any]:
        return self._get(f"/models/{_seg(name)}/resolve", version=version, alias=alias)

    def load_model(self, uri: str, *, trusted: bool = False) -> LoadedModel:
        """Fetch a version's model from the server and rebuild it here, after checking its
        bytes against the version's hash (pickles only when ``trusted``)."""
        from sluice.registry import parse_uri
        from sluice.registry.loading import rebuild, version_from_dict

        ref = parse_uri(uri)
        mv = version_from_dict(self.version(ref.name, ref.version, alias=ref.alias))
        path = f"/models/{_seg(mv.name)}/versions/{mv.version}/artifact"
        data = self._call("GET", path, response=True).content
        return rebuild(mv, data, trusted=trusted)

    def close(self) -> None:
        """Nothing to release: each call opens and closes its own connection."""

    def card(self, name: str, version: int, fmt: str = "md") -> str:
        path = f"/models/{_seg(name)}/versions/{int(version)}/card"
        return self._call("GET", path, raw=True, params={"format": fmt})

    def set_alias(self, name: str, version: int, alias: str) -> dict[str, Any]:
        return self._call(
            "PUT", f"/models/{_seg(name)}/aliases/{_seg(alias)}", json={"version": version}
        )

    def package(
        self, uri: str, out: str | os.PathLike[str], *, overwrite: bool = False
    ) -> dict[str, Any]:
        """Build the bundle on the server and write it into ``out`` here."""
        import json

        from sluice.registry import parse_uri
        from sluice.serving.package import check_out, unpack

        check_out(Path(out), overwrite=overwrite)  # refused before anything is fetched
        ref = parse_uri(uri)
        number = ref.version or self.version(ref.name, alias=ref.alias)["version"]
        path = f"/models/{_seg(ref.name)}/versions/{int(number)}/bundle"
        response = self._call("GET", path, response=True)
        files = unpack(response.content, Path(out), overwrite=overwrite)
        about = json.loads(response.headers.get("x-sluice-bundle", "{}"))
        return about | {"folder": str(out), "files": files}

    def monitors(self) -> list[dict[str, Any]]:
        return self._get("/monitors")

    def monitor(self, name: str, *, last: int = 10) -> dict[str, Any]:
        return self._get(f"/monitors/{_seg(name)}", last=last)

    def create_monitor(
        self,
        name: str,
        *,
        model: str,
        window: str = "1d",
        reference: str | None = None,
        settings: Mapping[str, Any] | None = None,
        actions: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "model": model,
            "window": window,
            "reference": reference,
            "settings": dict(settings) if settings is not None else None,
            "actions": actions,
        }
        return self._call("POST", "/monitors", json=body)

    def run_monitor(self, name: str) -> dict[str, Any]:
        # A run may retrain a model on the server: give it time.
        return self._call("POST", f"/monitors/{_seg(name)}/run", timeout=3600)

    def monitor_report(self, name: str, result_id: int) -> str:
        path = f"/monitors/{_seg(name)}/results/{int(result_id)}/report"
        return self._call("GET", path, raw=True)

    def report_url(self, name: str, result_id: int) -> str:
        """Where the server serves a result's HTML report (with a token)."""
        return f"{self.url}/api/v1/monitors/{_seg(name)}/results/{int(result_id)}/report"

    # -- projects -------------------------------------------------------------------

    def create_project(self, name: str, **fields: Any) -> dict[str, Any]:
        if "reviewer_roles" in fields:
            fields["reviewer_roles"] = list(fields["reviewer_roles"])
        return self._call("POST", "/projects", json={"name": name, **fields})

    def projects(self) -> list[dict[str, Any]]:
        return self._get("/projects")

    def project(self, name: str) -> dict[str, Any]:
        return self._get(f"/projects/{_seg(name)}")

    def retire_project(self, name: str) -> dict[str, Any]:
        return self._call("POST", f"/projects/{_seg(name)}/retire")

    # -- approvals ------------------------------------------------------------------

    def request(self, model: str, version: int, alias: str, reason: str) -> dict[str, Any]:
        body = {"model": model, "version": version, "alias": alias, "reason": reason}
        return self._call("POST", "/requests", json=body)

    def requests(self, status: str | None = None) -> list[dict[str, Any]]:
        return self._get("/requests", status=status)

    def get_request(self, request_id: int) -> dict[str, Any]:
        return self._get(f"/requests/{int(request_id)}")

    def inbox(self) -> list[dict[str, Any]]:
        return self._get("/inbox")

    def review(self, request_id: int, decision: str, comment: str = "") -> dict[str, Any]:
        body = {"decision": decision, "comment": comment}
        return self._call("POST", f"/requests/{int(request_id)}/reviews", json=body)

    # -- audit ----------------------------------------------------------------------

    def audit_log(
        self,
        *,
        target: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        return self._get(
            "/audit", target=target, actor=actor, action=action, since=since, limit=limit
        )

    def audit_verify(self) -> dict[str, Any]:
        return self._get("/audit/verify")

    # -- people ---------------------------------------------------------------------

    def users(self) -> list[dict[str, Any]]:
        return self._get("/users")

    def add_user(self, name: str, role: str) -> dict[str, Any]:
        return self._call("POST", "/users", json={"name": name, "role": role})

    def set_role(self, name: str, role: str) -> dict[str, Any]:
        return self._call("PUT", f"/users/{_seg(name)}/role", json={"role": role})

    def disable_user(self, name: str) -> dict[str, Any]:
        return self._call("POST", f"/users/{_seg(name)}/disable")

    def tokens(self, user: str | None = None) -> list[dict[str, Any]]:
        return self._get("/tokens", user=user)

    def create_token(
        self, user: str | None = None, *, label: str = "", expires_in: float | None = None
    ) -> dict[str, Any]:
        body = {"user": user, "label": label, "expires_in": expires_in}
        return self._call("POST", "/tokens", json=body)

    def revoke_token(self, token_id: int) -> dict[str, Any]:
        return self._call("DELETE", f"/tokens/{int(token_id)}")

    # -- transport ------------------------------------------------------------------

    def _get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self._call("GET", path, params=clean)

    def _call(
        self,
        method: str,
        path: str,
        *,
        raw: bool = False,
        response: bool = False,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
        wait = timeout if timeout is not None else self._timeout
        try:
            with httpx.Client(base_url=self.url, headers=headers, timeout=wait) as c:
                answer = c.request(method, f"/api/v1{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise ConfigError(
                f"Expected a sluice team server at {self.url} ({URI_ENV}); could not reach it: "
                f"{exc}. Check the URL, or unset {URI_ENV} to use a local store."
            ) from None
        if answer.status_code < 400 and (raw or response):
            return answer if response else answer.text
        data = _json(answer)
        if answer.status_code >= 400:
            raise _error(answer.status_code, data, self.url)
        return data


def from_env() -> HttpClient | None:
    """The team server the environment names, or None for a local store."""
    url = os.environ.get(URI_ENV, "").strip()
    if not url:
        return None
    return HttpClient(url, os.environ.get(TOKEN_ENV, "").strip())


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _chunks(body: BinaryIO, size: int = 1 << 20) -> Iterator[bytes]:
    while chunk := body.read(size):
        yield chunk


def _seg(value: str) -> str:
    """A path segment, escaped so that a name can never reach another route."""
    return quote(str(value), safe="")


def _error(status: int, data: Any, url: str) -> SluiceError:
    kind = data.get("error") if isinstance(data, dict) else None
    message = data.get("message") if isinstance(data, dict) else None
    if message is None and isinstance(data, dict) and "detail" in data:  # FastAPI's validation
        message = f"The server refused the request as invalid: {data['detail']}"
    cls = getattr(errors, str(kind), None)
    if not (isinstance(cls, type) and issubclass(cls, SluiceError)):
        cls = ConfigError if status in (400, 422) else SluiceError
    exc = cls.__new__(cls)
    SluiceError.__init__(exc, message or f"The team server at {url} answered HTTP {status}.")
    return exc
