"""Monitors: create one for a model alias, then ``run`` it to evaluate every window
closed since its cursor.

A run walks the prediction log in order. Time windows (``1d``) are each full
period aligned on the epoch; row windows (``10000rows``) are blocks of at least N
rows that never split rows logged at the same instant (one appended batch). Each
window gets one stored result (ok, drift, decay or insufficient) with its summary
and, when a renderer is given, an HTML report; then the cursor moves past it, so
a window is never evaluated twice. Alerts follow each result and their actions
are recorded with them.

A window of predictions from several model versions (the alias moved) is judged
against the baseline of the version that made most of them. Performance counts
the labels received by the time the window is evaluated; labels that arrive later
are not added to a stored result.

The HTML renderer and the retrain function are passed in by the caller, because
reports and templates sit above monitoring in the layers.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sluice.errors import AlreadyExists, MonitorError, SluiceError
from sluice.models.metrics import get_metric
from sluice.monitoring.alerts import AlertActions, Retrain, check_actions
from sluice.monitoring.evaluate import Baseline, WindowData, evaluate_window
from sluice.monitoring.monitor_settings import MonitorSettings
from sluice.monitoring.monitor_store import (
    get_monitor,
    insert_alert,
    insert_monitor,
    insert_result,
    list_monitors,
)
from sluice.monitoring.performance import choose_metric
from sluice.monitoring.prediction_drift import predictions_as_values, reference_predictions
from sluice.monitoring.records import Alert, Monitor, MonitorResult, RunOutcome
from sluice.monitoring.reference import (
    conform,
    drift_kinds,
    load_reference,
    parse_reference,
)
from sluice.monitoring.window_spec import WindowSpec, parse_window
from sluice.registry import ModelRef, ModelVersion, parse_ref, resolve
from sluice.workspace import Workspace

if TYPE_CHECKING:
    from sluice.predictions import LogWindow

__all__ = ["create_monitor", "get_monitor", "list_monitors", "run_monitor"]

RenderReport = Callable[[Mapping[str, Any]], str]
"""``render(summary) -> HTML``; ``sluice.reports.drift_report.render_drift_report`` is one."""

MAX_WINDOWS = 500
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
REPORT_MEDIA_TYPE = "text/html"


def create_monitor(
    ws: Workspace,
    name: str,
    *,
    model: str,
    window: str = "1d",
    reference: str | None = None,
    settings: MonitorSettings | None = None,
    actions: Sequence[Mapping[str, Any]] | None = None,
) -> Monitor:
    """Store a monitor of ``model`` (``NAME@ALIAS``; ``NAME`` alone means ``@champion``).

    Everything is checked before anything is written: the name, the window, that
    the model and alias exist, the reference dataset version and the actions.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise MonitorError(
            f"Expected a monitor name of letters, digits, '.', '_' or '-' (starting with a letter "
            f"or digit); got {name!r}. For example: bike-demand-daily."
        )
    spec = parse_window(window)
    ref = _model_ref(model)
    served = resolve(ws, ref)  # ModelNotFound / AliasNotFound with suggestions
    reference_id = parse_reference(ws, reference).id if reference else None
    if reference_id is None and served.dataset_version_id is None:
        raise MonitorError(
            f"Expected {served.uri} to record its training data, to compare production with; "
            "it has none. Name a reference with --reference DATASET@VERSION."
        )
    checked = check_actions(actions if actions is not None else [{"type": "log"}])
    chosen = settings or MonitorSettings()
    if chosen.metric:
        get_metric(chosen.metric, _task(served))  # UnknownMetric naming the task's metrics
    if any(m.name == name for m in list_monitors(ws)):
        existing = get_monitor(ws, name)
        raise AlreadyExists(
            f"Expected a new monitor name; {name!r} already watches {existing.model_uri} "
            f"(window {existing.window}). Choose another name, or run it with "
            f"`sluice monitor run {name}`."
        )
    return insert_monitor(
        ws,
        {
            "name": name,
            "model_name": ref.name,
            "alias": ref.alias,
            "window": spec.text,
            "reference_version_id": reference_id,
            "settings": chosen.to_dict(),
            "actions": checked,
            "cursor": None,
        },
    )


def _model_ref(model: str) -> ModelRef:
    ref = parse_ref(model.removeprefix("models:/"))
    if ref.version is not None:
        raise MonitorError(
            f"Expected a model alias to follow, like {ref.name}@champion; got {model!r}, a fixed "
            "version. A monitor follows the alias as it moves from version to version."
        )
    return ref if ref.alias else ModelRef(ref.name, alias="champion")


def run_monitor(
    ws: Workspace,
    name: str,
    *,
    now: float | None = None,
    render_report: RenderReport | None = None,
    retrain: Retrain | None = None,
    max_windows: int = MAX_WINDOWS,
) -> RunOutcome:
    """Evaluate every window closed since the cursor (at most ``max_windows``), in order.

    No predictions at all is not an error: the outcome's message says so.
    """
    monitor = get_monitor(ws, name)
    served = resolve(ws, ModelRef(monitor.model_name, alias=monitor.alias))
    spec = parse_window(monitor.window)
    clock = time.time() if now is None else now
    baselines = _Baselines(ws, monitor, served)
    actions = AlertActions(ws, monitor, retrain)
    results: list[MonitorResult] = []
    alerts: list[Alert] = []
    windows = (
        _row_windows(ws, monitor, spec) if spec.by_rows else _time_windows(ws, monitor, spec, clock)
    )
    for data in windows:
        result, raised = _evaluate_one(ws, monitor, data, baselines, render_report, actions)
        results.append(result)
        alerts.extend(raised)
        monitor = replace(monitor, cursor=data.cursor)
        if len(results) >= max_windows:
            break
    message = _message(ws, monitor, spec, results)
    if len(results) >= max_windows:
        message += f" Stopped after {max_windows} windows; run again for the rest."
    return RunOutcome(monitor, tuple(results), tuple(alerts), message)


@dataclass(frozen=True)
class _Window:
    start: float
    end: float
    cursor: float
    log: LogWindow


def _time_windows(
    ws: Workspace, monitor: Monitor, spec: WindowSpec, now: float
) -> Iterator[_Window]:
    from sluice.predictions import read_predictions

    assert spec.seconds is not None
    start = monitor.cursor
    if start is None:
        first = read_predictions(ws, monitor.model_name, limit=1)
        if not len(first):
            return
        start = spec.start_of(float(first.meta["timestamp"].iloc[0]))
    while start + spec.seconds <= now:
        end = start + spec.seconds
        yield _Window(
            start, end, end, read_predictions(ws, monitor.model_name, start=start, end=end)
        )
        start = end


def _row_windows(ws: Workspace, monitor: Monitor, spec: WindowSpec) -> Iterator[_Window]:
    from sluice.predictions import read_predictions

    assert spec.rows is not None
    cursor = monitor.cursor
    while True:
        head = read_predictions(ws, monitor.model_name, start=cursor, limit=spec.rows)
        if len(head) < spec.rows:
            return
        last = float(head.meta["timestamp"].iloc[-1])
        end = math.nextafter(last, math.inf)  # the whole batch logged at that instant
        log = read_predictions(ws, monitor.model_name, start=cursor, end=end)
        start = float(log.meta["timestamp"].iloc[0])
        yield _Window(start, end, end, log)
        cursor = end


class _Baselines:
    """The baseline of each model version met in this run, built once."""

    def __init__(self, ws: Workspace, monitor: Monitor, served: ModelVersion) -> None:
        self.ws, self.monitor, self.served = ws, monitor, served
        self._cache: dict[int, Baseline] = {}

    def version_of(self, log: LogWindow) -> int:
        """The version that made most of the window's predictions (the served one if none)."""
        if not len(log):
            return self.served.version
        return int(log.meta["model_version"].mode().iloc[0])

    def get(self, number: int) -> Baseline:
        if number not in self._cache:
            self._cache[number] = self._build(number)
        return self._cache[number]

    def _build(self, number: int) -> Baseline:
        from sluice.registry import load_model

        mv = (
            self.served
            if number == self.served.version
            else resolve(self.ws, ModelRef(self.monitor.model_name, version=number))
        )
        reference = load_reference(self.ws, mv, self.monitor.reference_version_id)
        task = _task(mv)
        raw = reference.raw
        try:
            model = load_model(mv.uri, workspace=self.ws)
            predictions, note = reference_predictions(model, raw, task)
        except SluiceError as exc:  # unsafe or missing artifact, unknown flavor
            predictions, note = None, f"the model could not be loaded: {exc}"
        classes = (mv.signature.get("output") or {}).get("classes")
        preferred = self.monitor.settings.metric or ((mv.extra or {}).get("evaluation") or {}).get(
            "metric"
        )
        return Baseline(
            model=mv.name,
            version=mv.version,
            task=task,
            reference=reference.frame,
            reference_name=reference.dataset,
            kinds=drift_kinds(mv.signature),
            signature=mv.signature,
            predictions=predictions,
            predictions_note=note,
            holdout=dict(mv.metrics),
            metric=choose_metric(task, mv.metrics, preferred),
            classes=classes,
        )


def _task(mv: ModelVersion) -> str:
    output = mv.signature.get("output") or {}
    task = output.get("task") or (mv.extra or {}).get("task")
    if not task:
        raise MonitorError(
            f"Expected {mv.uri} to record its task (regression or classification) in its "
            "signature; it does not. Register it with infer_signature(X, model, task=...)."
        )
    return str(task)


def _evaluate_one(
    ws: Workspace,
    monitor: Monitor,
    window: _Window,
    baselines: _Baselines,
    render_report: RenderReport | None,
    actions: AlertActions,
) -> tuple[MonitorResult, list[Alert]]:
    number = baselines.version_of(window.log)
    base = baselines.get(number)
    data = _window_data(ws, monitor, window, base)
    evaluation = evaluate_window(data, base, monitor.settings, monitor=monitor.name)
    report_hash = None
    if render_report is not None:
        html = render_report(evaluation.summary)
        report_hash = ws.put(
            html.encode("utf-8"), media_type=REPORT_MEDIA_TYPE, materializer="text"
        )
    result = insert_result(
        ws,
        monitor,
        status=evaluation.status,
        window_start=window.start,
        window_end=window.end,
        rows=data.rows,
        summary=evaluation.summary,
        model_version=number,
        report_hash=report_hash,
        cursor=window.cursor,
    )
    raised = []
    for finding in evaluation.findings:
        if finding.kind not in monitor.settings.alert_on:
            continue
        outcomes = actions.act(result, finding.kind, finding.message)
        raised.append(insert_alert(ws, monitor, result, finding.kind, finding.message, outcomes))
    return result, raised


def _window_data(ws: Workspace, monitor: Monitor, window: _Window, base: Baseline) -> WindowData:
    from sluice.predictions import read_labelled

    log = window.log
    signature_columns = set(base.kinds)
    inputs = log.inputs[[c for c in log.inputs.columns if str(c) in signature_columns]]
    inputs = conform(inputs.reset_index(drop=True), base.signature)
    mine = log.meta["model_version"] == base.version if len(log) else None
    predictions = (
        predictions_as_values(log.meta.loc[mine, "prediction"].to_numpy(), base.task)
        if mine is not None
        else None
    )
    labelled = None
    if len(log):
        found = read_labelled(
            ws, monitor.model_name, start=window.start, end=window.end, version=base.version
        )
        labelled = found.meta.reset_index(drop=True) if len(found) else None
    versions = sorted(int(v) for v in log.meta["model_version"].unique()) if len(log) else []
    notes = (
        (
            f"the window holds predictions of versions {', '.join(map(str, versions))}: inputs "
            f"of all of them are compared; predictions and performance of version "
            f"{base.version} only",
        )
        if len(versions) > 1
        else ()
    )
    return WindowData(
        start=window.start,
        end=window.end,
        spec=monitor.window,
        inputs=inputs,
        predictions=predictions,
        labelled=labelled,
        notes=notes,
    )


def _message(
    ws: Workspace, monitor: Monitor, spec: WindowSpec, results: list[MonitorResult]
) -> str:
    from sluice.predictions import count_predictions

    if results:
        counts: dict[str, int] = {}
        for r in results:
            counts[r.status.value] = counts.get(r.status.value, 0) + 1
        shown = ", ".join(f"{n} {status}" for status, n in counts.items())
        return f"Evaluated {len(results)} window(s) of {spec}: {shown}."
    if count_predictions(ws, monitor.model_name) == 0:
        return (
            f"No predictions logged for model {monitor.model_name!r} yet: nothing to evaluate. "
            f"Serve it (`sluice serve {monitor.model_uri}`) and run the monitor again."
        )
    waiting = f"{spec.rows} rows" if spec.by_rows else f"the current {spec} window to close"
    return f"No window closed since the last run: waiting for {waiting}."
