"""A live run: what the user logs into, and :func:`start_run` that makes one.

Every ``log_*`` call checks its arguments at once (see :mod:`.checks`) and hands
a row to the store's batching writer (see :mod:`.writer`); nothing touches the
database until a batch is full, time has passed, or the run ends. Ending a run
writes everything, so a run is durable once ``end()`` (or its ``with`` block)
returns, and the data logged before an exception is kept.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sluice.errors import TrackingError
from sluice.tracking import active, links
from sluice.tracking.checks import (
    check_choice,
    check_key,
    check_mapping,
    check_name,
    check_step,
    check_text,
    check_timestamp,
    check_value,
)
from sluice.tracking.records import RunStatus
from sluice.tracking.writer import MetricRow, Writer, close_run, open_run

if TYPE_CHECKING:
    from sluice.workspace import Workspace


class Run:
    """A run being recorded. Made by :func:`start_run`; a context manager."""

    def __init__(
        self,
        workspace: Workspace,
        writer: Writer,
        *,
        id: str,
        name: str | None,
        experiment: str,
        parent_id: str | None,
    ) -> None:
        self.workspace = workspace
        self.id = id
        self.name = name
        self.experiment = experiment
        self.parent_id = parent_id
        self.status = RunStatus.RUNNING
        self.previous: Run | None = None
        self._open = True  # the hot path checks a bool, not the enum
        self._writer = writer
        self._params: dict[str, str] = {}
        self._params_lock = threading.Lock()  # check-then-keep must be atomic across threads

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, name={self.name!r}, status={self.status.value!r})"

    @property
    def ended(self) -> bool:
        return self.status is not RunStatus.RUNNING

    @property
    def params(self) -> dict[str, str]:
        """The params logged so far (a copy)."""
        return dict(self._params)

    # -- logging ---------------------------------------------------------------

    def log_param(self, key: str, value: Any) -> None:
        """Record a parameter. Params are immutable: a different value raises TrackingError."""
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record several parameters; all are checked before any is kept."""
        self._require_open("log_params")
        with self._params_lock:
            new = _new_params(self._params, check_mapping(params, "log_params"), self.id)
            self._params.update(new)
        if new:
            rows = [{"run_id": self.id, "key": k, "value": v} for k, v in new.items()]
            self._writer.add_rows("params", rows)

    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: float | None = None
    ) -> None:
        """Record one value of a metric; costs about a microsecond."""
        if not self._open:
            self._require_open("log_metric")
        key = check_key(key, "metric")
        self._writer.add_metric(
            (
                self.id,
                key,
                check_value(key, value),
                0 if step is None else check_step(key, step),
                time.time() if timestamp is None else check_timestamp(timestamp, f"metric {key!r}"),
            )
        )

    def log_metrics(
        self, metrics: Mapping[str, float], step: int | None = None, timestamp: float | None = None
    ) -> None:
        """Record several metric values at one step and time; all are checked first."""
        self._require_open("log_metrics")
        items = check_mapping(metrics, "log_metrics")
        when = check_timestamp(timestamp, "log_metrics") if timestamp is not None else time.time()
        rows: list[MetricRow] = []
        for key, value in items.items():
            key = check_key(key, "metric")
            number, at = check_value(key, value), check_step(key, step)
            rows.append((self.id, key, number, at, when))
        if rows:
            self._writer.add_rows("metrics", rows)

    def set_tag(self, key: str, value: Any) -> None:
        """Set a tag; unlike a param, a tag may be set again to a new value."""
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set several tags; all are checked before any is kept."""
        self._require_open("set_tags")
        checked = _checked_tags(tags)
        if checked:
            self._writer.add_tags(self.id, checked)

    # -- ending ------------------------------------------------------------------

    def end(self, status: RunStatus | str = RunStatus.FINISHED) -> None:
        """End the run and write everything it logged. Ending again does nothing."""
        final = _status(status)
        if self.ended:
            return
        self.status, self._open = final, False
        active.deactivate(self, self.previous)
        close_run(self._writer, self.id, final.value, time.time())

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.end(RunStatus.FINISHED)
        elif issubclass(kind, KeyboardInterrupt):
            self.end(RunStatus.KILLED)
        else:
            self.end(RunStatus.FAILED)

    def _require_open(self, action: str) -> None:
        if self.ended:
            raise TrackingError(
                f"{action}() expects an open run; run {self.id} ({self.name or 'unnamed'}) has "
                f"already ended as {self.status.value}. Start a new run to log more."
            )


def start_run(
    name: str | None = None,
    *,
    experiment: str = "default",
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    parent: Run | str | None = None,
    workspace: Workspace | None = None,
    pipeline_run_id: str | None = None,
    step_run_id: str | None = None,
) -> Run:
    """Start a run and make it the current run of the fluent functions.

    Use it as ``with start_run(...) as run:``; the run ends ``finished`` on a normal
    exit, ``failed`` on an exception (``killed`` on Ctrl-C), keeping what was logged.
    ``parent`` (a Run or a run id) nests it; without ``workspace`` it goes to the
    parent's workspace or to :func:`sluice.workspace.current`.
    """
    check_name(name, "run name", optional=True)
    check_name(experiment, "experiment name", optional=False)
    new_params = _new_params({}, check_mapping(params or {}, "params="), None)
    new_tags = _checked_tags(tags or {})
    ws = _workspace(workspace, parent)
    parent_id = links.parent_id(parent, ws)
    pipeline_run_id = links.pipeline_links(ws, pipeline_run_id, step_run_id)
    run_id = uuid.uuid4().hex
    writer = open_run(ws.store, run_id)
    run = Run(ws, writer, id=run_id, name=name, experiment=experiment, parent_id=parent_id)
    writer.add_rows(
        "runs",
        [
            {
                "id": run_id,
                "name": name,
                "experiment": experiment,
                "status": RunStatus.RUNNING.value,
                "parent_id": parent_id,
                "pipeline_run_id": pipeline_run_id,
                "step_run_id": step_run_id,
                "start_time": time.time(),
                "end_time": None,
            }
        ],
    )
    run.log_params(new_params)
    run.set_tags(new_tags)
    run.previous = active.activate(run)
    return run


def _workspace(workspace: Workspace | None, parent: Run | str | None) -> Workspace:
    if workspace is not None:
        return workspace
    if isinstance(parent, Run):
        return parent.workspace
    from sluice.workspace import current

    return current()


def _new_params(
    logged: Mapping[str, str], params: Mapping[str, Any], run_id: str | None
) -> dict[str, str]:
    """The params not logged yet, as text; a changed value raises TrackingError."""
    new: dict[str, str] = {}
    for key, value in params.items():
        key = check_key(key, "param")
        text = check_text(value, f"value of param {key!r}")
        before = logged.get(key, new.get(key))
        if before is not None and before != text:
            raise TrackingError(
                f"Param {key!r} of run {run_id} is already {before!r}; got {text!r}. Params are "
                "immutable: keep the first value, log the new one under another key, or start "
                "a new run."
            )
        if before is None:
            new[key] = text
    return new


def _checked_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    items = check_mapping(tags, "tags")
    return {check_key(k, "tag"): check_text(v, f"value of tag {k!r}") for k, v in items.items()}


def _status(status: RunStatus | str) -> RunStatus:
    """A final status; 'running' is not one."""
    choices = [s.value for s in RunStatus if s is not RunStatus.RUNNING]
    return RunStatus(check_choice(status, choices, "A run ends as one of"))
