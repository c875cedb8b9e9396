"""One window against its baseline: data drift, prediction drift, missing values, new
categories and performance, turned into findings, a status and a stored summary.

Pure: no store, no log reading. ``sluice.monitoring.monitors`` gathers the data
and stores what comes out. Odd windows (empty, tiny, constant or all-null
columns, unseen categories, columns on one side only, infinite values) end in a
stated outcome, never an exception or a false alarm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sluice.monitoring.dataset import dataset_drift
from sluice.monitoring.distributions import distribution
from sluice.monitoring.monitor_settings import (
    DATA_DRIFT,
    MISSING_VALUES,
    NEW_CATEGORIES,
    PERFORMANCE_DECAY,
    PREDICTION_DRIFT,
    MonitorSettings,
)
from sluice.monitoring.performance import performance
from sluice.monitoring.prediction_drift import prediction_drift
from sluice.monitoring.records import Status
from sluice.monitoring.results import DatasetDrift


@dataclass(frozen=True)
class Baseline:
    """What a window of one model version is compared with."""

    model: str
    version: int
    task: str
    reference: pd.DataFrame
    reference_name: str
    kinds: Mapping[str, str]
    signature: Mapping[str, Any] = field(default_factory=dict)
    predictions: pd.Series | None = None
    predictions_note: str = ""
    holdout: Mapping[str, Any] = field(default_factory=dict)
    metric: str = ""
    classes: Sequence[Any] | None = None


@dataclass(frozen=True)
class WindowData:
    """The rows of one window: inputs (conformed), this version's predictions, labelled rows."""

    start: float
    end: float
    spec: str
    inputs: pd.DataFrame
    predictions: pd.Series | None = None
    labelled: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return len(self.inputs)


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class Evaluation:
    status: Status
    verdict: str
    findings: tuple[Finding, ...]
    summary: Mapping[str, Any]


def evaluate_window(
    window: WindowData, base: Baseline, settings: MonitorSettings, *, monitor: str = ""
) -> Evaluation:
    """Judge one window; the summary holds everything the report and ``show`` display."""
    summary: dict[str, Any] = {
        "monitor": monitor,
        "model": base.model,
        "model_version": base.version,
        "task": base.task,
        "reference": {"name": base.reference_name, "rows": len(base.reference)},
        "window": {
            "spec": window.spec,
            "start": window.start,
            "end": window.end,
            "rows": window.rows,
        },
        "settings": settings.to_dict(),
        "data_drift": None,
        "prediction_drift": None,
        "performance": None,
        "new_categories": {},
        "missing": [],
        "distributions": {},
        "prediction_distribution": None,
        "notes": list(window.notes),
    }
    too_few = _too_few(window, settings)
    if too_few:
        summary["notes"].append(too_few)
        return _finish(summary, Status.INSUFFICIENT, f"Insufficient data: {too_few}.", [])
    findings = _data_findings(window, base, settings, summary)
    findings += _prediction_findings(window, base, settings, summary)
    findings += _performance_findings(window, base, settings, summary)
    counted = [f for f in findings if f.kind in settings.alert_on]
    status = (
        Status.DECAY
        if any(f.kind == PERFORMANCE_DECAY for f in counted)
        else Status.DRIFT
        if counted
        else Status.OK
    )
    return _finish(summary, status, _verdict(status, counted, summary), findings)


def _too_few(window: WindowData, settings: MonitorSettings) -> str:
    if window.rows == 0:
        return "empty window: no predictions were logged in it"
    if window.rows < settings.min_rows:
        return f"not enough data: {window.rows} rows, need at least {settings.min_rows}"
    return ""


def _data_findings(
    window: WindowData, base: Baseline, settings: MonitorSettings, summary: dict[str, Any]
) -> list[Finding]:
    present = set(map(str, base.reference.columns)) | set(map(str, window.inputs.columns))
    kinds = {k: v for k, v in base.kinds.items() if k in present}
    drift = dataset_drift(base.reference, window.inputs, kinds=kinds, settings=settings.drift)
    summary["data_drift"] = drift.to_dict()
    summary["distributions"] = {
        c.column: distribution(base.reference[c.column], window.inputs[c.column], c.kind)
        for c in drift.columns
    }
    findings = []
    if drift.drifted:
        findings.append(Finding(DATA_DRIFT, _drift_message(drift)))
    elif drift.drifted_columns:
        summary["notes"].append(
            f"{len(drift.drifted_columns)} column(s) drifted ({', '.join(drift.drifted_columns)}), "
            f"below the dataset threshold of {drift.threshold:.0%} of the compared columns"
        )
    for c in drift.columns:
        if c.new_categories:
            summary["new_categories"][c.column] = list(c.new_categories)
            shown = ", ".join(repr(v) for v in c.new_categories[:10])
            more = f" and {len(c.new_categories) - 10} more" if len(c.new_categories) > 10 else ""
            findings.append(
                Finding(
                    NEW_CATEGORIES,
                    f"column '{c.column}' has categories never seen in the "
                    f"reference: {shown}{more}",
                )
            )
        if c.missing_shift > settings.missing_shift:
            summary["missing"].append(
                {"column": c.column, "reference": c.missing_reference,
                 "current": c.missing_current, "shift": c.missing_shift}
            )  # fmt: skip
            findings.append(
                Finding(
                    MISSING_VALUES,
                    f"column '{c.column}' is missing in {c.missing_current:.1%} of rows against "
                    f"{c.missing_reference:.1%} in the reference (more than "
                    f"{settings.missing_shift:.0%} points up)",
                )
            )
    for name in drift.only_in_reference:
        summary["notes"].append(f"column '{name}' is in the reference but not in the window")
    for name in drift.only_in_current:
        summary["notes"].append(f"column '{name}' is in the window but not in the reference")
    return findings


def _drift_message(drift: DatasetDrift) -> str:
    compared = [c for c in drift.columns if c.method != "none"]
    return (
        f"{len(drift.drifted_columns)} of {len(compared)} compared columns drifted "
        f"({drift.share_drifted:.0%}, threshold {drift.threshold:.0%}): "
        + ", ".join(drift.drifted_columns)
    )


def _prediction_findings(
    window: WindowData, base: Baseline, settings: MonitorSettings, summary: dict[str, Any]
) -> list[Finding]:
    if base.predictions is None:
        summary["notes"].append(f"prediction drift not measured: {base.predictions_note}")
        return []
    if window.predictions is None or window.predictions.empty:
        summary["notes"].append(
            f"prediction drift not measured: no predictions of version {base.version} in the window"
        )
        return []
    result = prediction_drift(base.predictions, window.predictions, base.task, settings.drift)
    summary["prediction_drift"] = result.to_dict()
    summary["prediction_distribution"] = distribution(
        base.predictions, window.predictions, result.kind
    )
    if not result.drifted:
        return []
    return [Finding(PREDICTION_DRIFT, f"the predictions drifted: {result.reason}")]


def _performance_findings(
    window: WindowData, base: Baseline, settings: MonitorSettings, summary: dict[str, Any]
) -> list[Finding]:
    labelled = window.labelled
    if labelled is None or labelled.empty:
        summary["notes"].append("performance not measured: no feedback labels for this window yet")
        return []
    result = performance(
        labelled,
        task=base.task,
        holdout=base.holdout,
        metric=base.metric,
        tolerance=settings.performance_tolerance,
        min_rows=settings.min_labels,
        classes=base.classes,
    )
    summary["performance"] = result.to_dict()
    return (
        [Finding(PERFORMANCE_DECAY, f"performance decayed: {result.reason}")]
        if result.decayed
        else []
    )


def _verdict(status: Status, counted: list[Finding], summary: Mapping[str, Any]) -> str:
    if status is Status.OK:
        drift = summary.get("data_drift") or {}
        compared = sum(1 for c in drift.get("columns", ()) if c.get("method") != "none")
        return f"OK: no drift, decay or data problem found ({compared} columns compared)."
    label = "Performance decay" if status is Status.DECAY else "Drift"
    return f"{label}: " + "; ".join(f.message for f in counted) + "."


def _finish(
    summary: dict[str, Any], status: Status, verdict: str, findings: list[Finding]
) -> Evaluation:
    summary["status"] = status.value
    summary["verdict"] = verdict
    summary["findings"] = [f.to_dict() for f in findings]
    return Evaluation(status, verdict, tuple(findings), summary)
