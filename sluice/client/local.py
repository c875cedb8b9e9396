"""The client API on a local store, and the one place its answers are shaped.

The team server answers each request by calling these methods as the token's
user, so a command gives the same result against a server as against a local
store. With no user (the embedded local mode) the operating-system user acts,
as ``SLUICE_ACTOR`` or the login name, and roles are not checked.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sluice.errors import ConfigError, Forbidden

if TYPE_CHECKING:
    from sluice.governance import User
    from sluice.registry import LoadedModel
    from sluice.templates.tabular.config import JobConfig
    from sluice.workspace import Workspace


class LocalClient:
    """The client API on ``ws``, acting as ``user`` (None: the operating-system user)."""

    def __init__(self, ws: Workspace, user: User | None = None) -> None:
        self.ws = ws
        self.user = user
        self.where = ws.store.safe_url

    def __repr__(self) -> str:
        return f"LocalClient({self.where!r})"

    # -- who, data, runs ------------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        if self.user is not None:
            return self.user.to_dict()
        from sluice.governance import get_user, list_users
        from sluice.store.audit import current_actor

        name = current_actor()
        if any(u.name == name for u in list_users(self.ws)):
            return get_user(self.ws, name).to_dict()
        return {"id": None, "name": name, "role": None, "disabled": False, "created_at": None}

    def datasets(self) -> list[dict[str, Any]]:
        from sluice.data import list_datasets

        return [d.to_dict() for d in list_datasets(self.ws)]

    def dataset_versions(self, name: str) -> list[dict[str, Any]]:
        from sluice.data import list_versions

        return [v.to_dict(profile=False) for v in list_versions(self.ws, name)]

    def dataset_version(self, ref: str) -> dict[str, Any]:
        """A version (``NAME`` for the latest, or ``NAME@VERSION``) with schema and profile."""
        from sluice.data import get_version

        return get_version(self.ws, ref).to_dict()

    def add_dataset(
        self,
        path: str | os.PathLike[str],
        name: str,
        *,
        target: str | None = None,
        time_column: str | None = None,
        source_uri: str | None = None,
    ) -> dict[str, Any]:
        """Record a file as the next version of ``name``; ``new`` is false when the same
        bytes were recorded before (that version is returned)."""
        from sluice.data import add_version

        started = time.time()
        with self._acting():
            version = add_version(
                self.ws, path, name, target=target, time_column=time_column, source_uri=source_uri
            )
        return version.to_dict(profile=False) | {"new": version.created_at >= started}

    def dataset_diff(self, a: str, b: str) -> dict[str, Any]:
        """Schema and statistics differences from version ``a`` to version ``b``."""
        from sluice.data import diff_versions, get_version

        return diff_versions(get_version(self.ws, a), get_version(self.ws, b))

    def validate_dataset(
        self, ref: str, *, against: str | None = None, target: str | None = None
    ) -> dict[str, Any]:
        """Anomalies of a version, against its own schema or another version's."""
        from sluice.data import get_version, load_frame, schema_from_profile, validate

        version = get_version(self.ws, ref)
        base = get_version(self.ws, against) if against else version
        schema = base.schema
        if target:
            schema = schema_from_profile(
                base.profile, target=target, time_column=schema.time_column
            )
        reference = base.profile if against else None
        report = validate(load_frame(self.ws, version), schema, reference=reference)
        return {"ref": version.ref, "against": base.ref, **report.to_dict()}

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
        """Pipeline runs, a page at a time: newest first, or by ``sort`` (created,
        duration, pipeline, status)."""
        from sluice.pipelines import list_runs

        found = list_runs(
            self.ws,
            limit=limit,
            offset=offset,
            pipeline=pipeline,
            status=_run_status(status),
            sort=sort,
            descending=descending,
        )
        return [r.to_dict() for r in found]

    def run(self, run_id: str) -> dict[str, Any]:
        """A run (its id or a unique prefix of at least 4 characters) with its steps."""
        from sluice.pipelines import get_run

        return get_run(self.ws, run_id).to_dict()

    def tracked_runs(self, run_id: str) -> list[dict[str, Any]]:
        """The tracked runs a pipeline run made (one per candidate in the main job), with
        their params, latest metrics and tags."""
        from sluice.pipelines import get_run
        from sluice.tracking import list_runs

        full = get_run(self.ws, run_id).id
        return [r.to_dict() for r in list_runs(self.ws, pipeline_run_id=full)]

    def metric_history(self, tracked_run_id: str, key: str) -> list[dict[str, Any]]:
        """Every value a tracked run logged for ``key``, by step."""
        from sluice.tracking import metric_history

        return [p.to_dict() for p in metric_history(self.ws, tracked_run_id, key)]

    def run_logs(self, run_id: str, step: str | None = None) -> dict[str, str]:
        """Each step's log in run order (or only ``step``'s)."""
        from sluice.pipelines import step_logs

        return step_logs(self.ws, run_id, step)

    def run_job(
        self,
        config: JobConfig | Mapping[str, Any] | str | os.PathLike[str],
        *,
        dataset: str | None = None,
        filename: str | None = None,
        on_event: Callable[[Any], Any] | None = None,
        plan: Any = None,
    ) -> dict[str, Any]:
        """Run the main job (a sluice.yaml, its mapping, or a checked JobConfig): the
        answer has the run id, the summary that ``sluice run --json`` prints and the exit
        code. With ``dataset`` (NAME@VERSION) the job reads that stored version instead of
        ``data.path`` (how the team server runs a job whose data was sent to it). ``plan``
        is :func:`~sluice.templates.tabular.checks.plan_job`'s, when the caller has it."""
        from sluice.templates.tabular.config import JobConfig

        if plan is not None and isinstance(config, JobConfig) and dataset is None:
            return self.run_planned(config, plan, on_event=on_event)
        job, plan = self.prepare_job(config, dataset=dataset, filename=filename)
        return self.run_planned(job, plan, on_event=on_event)

    def run_planned(
        self, job: JobConfig, plan: Any, *, on_event: Callable[[Any], Any] | None = None
    ) -> dict[str, Any]:
        """Run a job :meth:`prepare_job` checked."""
        from sluice.templates.tabular.pipeline import run_job

        with self._acting():
            result = run_job(self.ws, job, on_event=on_event, plan=plan)
        return {"run_id": result.run_id, "summary": result.summary, "exit_code": result.exit_code}

    def prepare_job(
        self,
        config: JobConfig | Mapping[str, Any] | str | os.PathLike[str],
        *,
        dataset: str | None = None,
        filename: str | None = None,
    ) -> tuple[JobConfig, Any]:
        """The checked job and its plan; every input error is raised here, before it runs."""
        from sluice.templates.tabular.checks import plan_job
        from sluice.templates.tabular.config import as_job

        job = as_job(config)
        if dataset is not None:
            path = self._dataset_file(dataset, filename or job.data.path.name)
            job = job.model_copy(update={"data": job.data.model_copy(update={"path": path})})
        return job, plan_job(job)

    def run_report(self, run_id: str) -> str:
        """The HTML report ``sluice run`` wrote for a run of the main job."""
        from sluice.errors import NotFound
        from sluice.pipelines import get_run

        run = get_run(self.ws, run_id)
        path = Path(self.ws.settings.home) / "reports" / f"run-{run.id}.html"
        if not path.is_file():
            raise NotFound(
                f"Expected a report of run {run.id}; there is none (only runs of the main job "
                "started with `sluice run` have one)."
            )
        return path.read_text(encoding="utf-8")

    def _dataset_file(self, ref: str, filename: str) -> Path:
        """A stored dataset version as a file (one per content, so runs on the same bytes
        see the same path and reuse their cached steps)."""
        from sluice.artifacts.local import atomic_write
        from sluice.data import get_version

        if not re.fullmatch(r"[\w.-]{1,255}", filename) or filename.startswith("."):
            raise ConfigError(
                f"Expected a plain file name such as day.csv for the job's data; got {filename!r}."
            )
        version = get_version(self.ws, ref)
        path = Path(self.ws.settings.home) / "uploads" / version.content_hash / filename
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, self.ws.get(version.artifact_hash))
        return path

    # -- models -----------------------------------------------------------------------

    def models(self) -> list[dict[str, Any]]:
        from sluice.registry import list_models

        return [m.to_dict() for m in list_models(self.ws)]

    def model_versions(self, name: str) -> list[dict[str, Any]]:
        from sluice.registry import list_versions

        return [v.to_dict() for v in list_versions(self.ws, name)]

    def version(
        self, name: str, version: int | None = None, *, alias: str | None = None
    ) -> dict[str, Any]:
        """A version (by number, by alias, or the latest) with its training data and gates."""
        from sluice.gates import gate_results_for
        from sluice.registry import ModelRef, resolve
        from sluice.reports.model_card import training_data

        if version is not None and alias is not None:
            raise ConfigError(
                f"Expected a version number or an alias of {name}, not both; got {version} "
                f"and {alias!r}."
            )
        mv = resolve(self.ws, ModelRef(name, version=version, alias=alias))
        gates = gate_results_for(self.ws, model_version_id=mv.id)
        return mv.to_dict() | {
            "training_data": training_data(self.ws, mv.dataset_version_id),
            "gates": [g.to_dict() for g in gates],
        }

    def load_model(self, uri: str, *, trusted: bool = False) -> LoadedModel:
        """A version ready to predict (hash-checked; pickles only when ``trusted``)."""
        from sluice.registry import load_model

        return load_model(uri, workspace=self.ws, trusted=trusted)

    def model_artifact(self, name: str, version: int) -> tuple[bytes, str]:
        """A version's stored model bytes (hash-verified) and their address."""
        from sluice.registry import ModelRef, resolve

        mv = resolve(self.ws, ModelRef(name, version=version))
        return self.ws.get(mv.artifact_hash), mv.artifact_hash

    def close(self) -> None:
        """Release the store's connections."""
        self.ws.close()

    def card(self, name: str, version: int, fmt: str = "md") -> str:
        from sluice.governance import model_card_inputs
        from sluice.registry import ModelRef, resolve
        from sluice.reports.model_card import render_model_card

        mv = resolve(self.ws, ModelRef(name, version=version))
        return render_model_card(mv, model_card_inputs(self.ws, mv), fmt=fmt)

    def set_alias(self, name: str, version: int, alias: str) -> dict[str, Any]:
        """Point an alias other than a protected one (production) at a version; the answer
        says where it was (``previous``, None for a new alias)."""
        from sluice.errors import AliasNotFound
        from sluice.governance import PROTECTED_ALIASES
        from sluice.registry import ModelRef, resolve, set_alias

        if alias.strip().lower() in PROTECTED_ALIASES:
            raise Forbidden(
                f"The {alias} alias moves only through an approved request, not directly: "
                f"`sluice models request {name} {version} --alias {alias} --reason TEXT`, "
                "then another person runs `sluice review ID approve`."
            )
        try:
            before: int | None = resolve(self.ws, ModelRef(name, alias=alias)).version
        except AliasNotFound:
            before = None
        with self._acting():
            moved = set_alias(self.ws, name, version, alias)
        return moved.to_dict() | {"previous": before}

    def package(
        self, uri: str, out: str | os.PathLike[str], *, overwrite: bool = False
    ) -> dict[str, Any]:
        """Write a self-contained bundle of a version (``models:/NAME/VERSION`` or
        ``models:/NAME@ALIAS``) into ``out``: model and hash, signature, pinned
        requirements, a serving entry point and a Dockerfile."""
        from sluice.serving.package import package_model

        return package_model(self.ws, uri, Path(out), overwrite=overwrite).to_dict()

    def bundle_archive(self, name: str, version: int) -> tuple[bytes, dict[str, Any]]:
        """A version's bundle as zip bytes, with what :meth:`package` says of it."""
        import tempfile

        from sluice.registry import ModelRef, resolve
        from sluice.serving.package import archive, package_model

        uri = resolve(self.ws, ModelRef(name, version=version)).uri
        with tempfile.TemporaryDirectory(prefix="sluice-bundle-") as folder:
            bundle = package_model(self.ws, uri, Path(folder) / "bundle")
            return archive(bundle), bundle.to_dict()

    def monitors(self) -> list[dict[str, Any]]:
        """Monitors with the alias they follow and their latest result (None before any)."""
        from sluice.monitoring import latest_results, list_monitors

        out = []
        for m in list_monitors(self.ws):
            latest = latest_results(self.ws, m, limit=1)
            out.append(m.to_dict() | {"latest": latest[0].to_dict() if latest else None})
        return out

    def monitor(self, name: str, *, last: int = 10) -> dict[str, Any]:
        """A monitor with its reference, latest results (newest first) and alerts."""
        from sluice.monitoring import alerts_of, get_monitor, latest_results
        from sluice.monitoring.reference import dataset_version_by_id

        m = get_monitor(self.ws, name)
        reference = (
            dataset_version_by_id(self.ws, m.reference_version_id).ref
            if m.reference_version_id is not None
            else None
        )
        return {
            "monitor": m.to_dict(),
            "reference": reference,
            "results": [r.to_dict() for r in latest_results(self.ws, m, limit=last)],
            "alerts": [a.to_dict() for a in alerts_of(self.ws, m, limit=last)],
        }

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
        """A monitor of a model alias; everything is checked before anything is stored."""
        from sluice.monitoring import MonitorSettings, create_monitor

        chosen = MonitorSettings.from_dict(settings) if settings is not None else None
        with self._acting():
            made = create_monitor(
                self.ws,
                name,
                model=model,
                window=window,
                reference=reference,
                settings=chosen,
                actions=actions,
            )
        return made.to_dict()

    def run_monitor(self, name: str) -> dict[str, Any]:
        """Evaluate every window closed since the last run, and act on alerts."""
        from sluice.monitoring import run_monitor
        from sluice.reports.drift_report import render_drift_report

        try:
            from sluice.templates.tabular.retrain import retrain_from_log as retrain
        except ImportError:  # pragma: no cover - the templates ship with sluice
            retrain = None  # type: ignore[assignment]
        with self._acting():
            outcome = run_monitor(self.ws, name, render_report=render_drift_report, retrain=retrain)
        return outcome.to_dict()

    def monitor_report(self, name: str, result_id: int) -> str:
        """The HTML drift report of one of a monitor's results."""
        from sluice.errors import NotFound
        from sluice.monitoring import get_monitor, result_by_id
        from sluice.reports.drift_report import render_drift_report

        monitor = get_monitor(self.ws, name)
        result = result_by_id(self.ws, result_id)
        if result is None or result.monitor_id != monitor.id:
            raise NotFound(
                f"Expected the id of one of {name}'s results; got {result_id}. "
                f"`sluice monitor show {name}` lists them."
            )
        if result.report_hash:
            return self.ws.get(result.report_hash).decode("utf-8")
        return render_drift_report(result.summary)

    # -- projects -------------------------------------------------------------------

    def create_project(self, name: str, **fields: Any) -> dict[str, Any]:
        from sluice.governance import create_project

        if "reviewer_roles" in fields:
            fields["reviewer_roles"] = tuple(fields["reviewer_roles"])
        with self._acting():
            return create_project(self.ws, name, **fields).to_dict()

    def projects(self) -> list[dict[str, Any]]:
        from sluice.governance import list_projects

        with self._acting():
            return [p.to_dict() for p in list_projects(self.ws)]

    def project(self, name: str) -> dict[str, Any]:
        from sluice.governance import standing

        with self._acting():
            return standing(self.ws, name).to_dict()

    def retire_project(self, name: str) -> dict[str, Any]:
        from sluice.governance import retire_project

        with self._acting():
            return retire_project(self.ws, name).to_dict()

    # -- approvals ------------------------------------------------------------------

    def request(self, model: str, version: int, alias: str, reason: str) -> dict[str, Any]:
        from sluice.governance import request_alias

        with self._acting():
            made = request_alias(self.ws, model, version, alias, reason, requester=self._name)
        return made.to_dict()

    def requests(self, status: str | None = None) -> list[dict[str, Any]]:
        from sluice.governance import list_requests

        return [r.to_dict() for r in list_requests(self.ws, status)]

    def get_request(self, request_id: int) -> dict[str, Any]:
        from sluice.governance import get_request

        return get_request(self.ws, request_id).to_dict()

    def inbox(self) -> list[dict[str, Any]]:
        from sluice.governance import inbox

        return [r.to_dict() for r in inbox(self.ws, self._name)]

    def review(self, request_id: int, decision: str, comment: str = "") -> dict[str, Any]:
        from sluice.governance import review

        role = self.user.role if self.user is not None else None
        with self._acting():
            done = review(
                self.ws, request_id, decision, comment, reviewer=self._name, reviewer_role=role
            )
        return done.to_dict()

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
        from sluice.governance import audit_log, parse_since

        start = parse_since(since) if since is not None else None
        found = audit_log(
            self.ws, target=target, actor=actor, action=action, since=start, limit=limit
        )
        return [e.to_dict() for e in found]

    def audit_verify(self) -> dict[str, Any]:
        from sluice.governance import verify_audit

        return verify_audit(self.ws).to_dict()

    # -- people ---------------------------------------------------------------------

    def users(self) -> list[dict[str, Any]]:
        from sluice.governance import list_users

        return [u.to_dict() for u in list_users(self.ws)]

    def add_user(self, name: str, role: str) -> dict[str, Any]:
        from sluice.governance import add_user

        with self._acting():
            return add_user(self.ws, name, role).to_dict()

    def set_role(self, name: str, role: str) -> dict[str, Any]:
        from sluice.governance import set_role

        with self._acting():
            return set_role(self.ws, name, role).to_dict()

    def disable_user(self, name: str) -> dict[str, Any]:
        from sluice.governance import disable_user

        if self.user is not None and name == self.user.name:
            raise ConfigError("You cannot disable yourself; ask another admin.")
        with self._acting():
            return disable_user(self.ws, name).to_dict()

    def tokens(self, user: str | None = None) -> list[dict[str, Any]]:
        """Tokens, never their secrets: a user's own, or (admins, or locally) anyone's."""
        from sluice.governance import list_tokens

        if self.user is not None and not self._admin:
            if user not in (None, self.user.name):
                self._require_admin()
            user = self.user.name
        return [t.to_dict() for t in list_tokens(self.ws, user)]

    def create_token(
        self, user: str | None = None, *, label: str = "", expires_in: float | None = None
    ) -> dict[str, Any]:
        """A new token for ``user`` (default: oneself); the secret is in this answer only."""
        from sluice.governance import create_token

        owner = user or (self.user.name if self.user is not None else None)
        if owner is None:
            raise ConfigError("Expected the user the token acts as; for example: ada.")
        if self.user is not None and owner != self.user.name:
            self._require_admin()
        with self._acting():
            token, secret = create_token(self.ws, owner, label=label, expires_in=expires_in)
        return token.to_dict() | {"token": secret}

    def revoke_token(self, token_id: int) -> dict[str, Any]:
        from sluice.governance import list_tokens, revoke_token

        if self.user is not None and token_id not in {
            t.id for t in list_tokens(self.ws, self.user.name)
        }:
            self._require_admin()
        with self._acting():
            return revoke_token(self.ws, token_id).to_dict()

    # -- helpers --------------------------------------------------------------------

    @property
    def _name(self) -> str | None:
        return self.user.name if self.user is not None else None

    @property
    def _admin(self) -> bool:
        from sluice.governance import allowed

        return self.user is not None and allowed(self.user.role, "users.admin")

    def _require_admin(self) -> None:
        from sluice.governance import require

        assert self.user is not None
        require(self.user.name, self.user.role, "users.admin")

    @contextmanager
    def _acting(self) -> Iterator[None]:
        from sluice.store.audit import acting_as

        with acting_as(self.user.name) if self.user is not None else nullcontext():
            yield


def _run_status(value: str | None) -> Any:
    if value is None:
        return None
    from sluice.errors import did_you_mean
    from sluice.pipelines import Status

    names = [s.value for s in Status]
    if value not in names:
        raise ConfigError(
            f"Expected --status to be one of {', '.join(names)}; got {value!r}."
            f"{did_you_mean(value, names)}"
        )
    return Status(value)
