"""Performance on labelled production rows against the version's holdout metrics.

A metric worse than on the holdout by more than the tolerance (a fraction of the
holdout value) is concept drift: the inputs may look the same, but what they
mean for the target has changed. With too few labels nothing is judged, and the
result says how many there were and how many are needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sluice.errors import ModelError
from sluice.models.metrics import DEFAULT_METRIC, Outcome, compute, compute_all, get_metric
from sluice.models.types import Task

PROBA = "proba:"


@dataclass(frozen=True)
class Performance:
    """The chosen metric in production and on the holdout, and the verdict with its reason."""

    metric: str
    rows: int
    decayed: bool
    reason: str
    tolerance: float
    value: float | None = None
    holdout: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"metrics": dict(self.metrics)}


def choose_metric(task: str, holdout: Mapping[str, Any], preferred: str | None) -> str:
    """The preferred metric, else the task's default, else the first one the holdout has."""
    if preferred:
        return get_metric(preferred, task).name
    default = DEFAULT_METRIC[Task.parse(task)]
    if default in holdout or not holdout:
        return default
    return next(iter(holdout))


def performance(
    labelled: pd.DataFrame,
    *,
    task: str,
    holdout: Mapping[str, Any],
    metric: str,
    tolerance: float,
    min_rows: int,
    classes: Sequence[Any] | None = None,
) -> Performance:
    """Judge ``labelled`` (``prediction``, ``label``, ``proba:*``) against ``holdout``."""
    labelled = _usable(labelled, task)
    base = Performance(
        metric=metric, rows=len(labelled), decayed=False, reason="", tolerance=tolerance
    )
    if len(labelled) < min_rows:
        return _with(
            base,
            reason=f"not enough labelled rows: {len(labelled)}, need at least {min_rows}; "
            "performance not judged",
        )
    said = _outcome(labelled, task, classes)
    scores = compute_all(said, task)
    chosen = get_metric(metric, task)
    try:
        value = compute(said, chosen)
    except ModelError as exc:
        return _with(base, metrics=scores, reason=f"{metric} not computed on this window: {exc}")
    reference = holdout.get(metric)
    if not isinstance(reference, int | float) or not np.isfinite(reference):
        return _with(
            base,
            value=value,
            metrics=scores,
            reason=f"{metric} is {value:.4g}; the version has no holdout {metric} to compare with",
        )
    worse_by = chosen.signed(float(reference)) - chosen.signed(value)
    allowed = tolerance * abs(float(reference))
    decayed = worse_by > allowed
    direction = "higher" if chosen.greater_is_better else "lower"
    reason = (
        f"{metric} is {value:.4g} on {len(labelled)} labelled rows against {float(reference):.4g} "
        f"on the holdout ({direction} is better): "
        + (
            f"worse by {worse_by:.4g}, more than the {tolerance:.0%} tolerance ({allowed:.4g})"
            if decayed
            else f"within the {tolerance:.0%} tolerance ({allowed:.4g})"
        )
    )
    return _with(
        base, value=value, holdout=float(reference), metrics=scores, decayed=decayed, reason=reason
    )


def _usable(labelled: pd.DataFrame, task: str) -> pd.DataFrame:
    """Rows with a label and a prediction: a regression's must be finite numbers."""
    if Task.parse(task) is not Task.REGRESSION:
        return labelled[labelled["label"].notna() & labelled["prediction"].notna()]
    label = pd.to_numeric(labelled["label"], errors="coerce").to_numpy(dtype=float)
    said = pd.to_numeric(labelled["prediction"], errors="coerce").to_numpy(dtype=float)
    return labelled[np.isfinite(label) & np.isfinite(said)]


def _with(base: Performance, **changes: Any) -> Performance:
    from dataclasses import replace

    return replace(base, **changes)


def _outcome(labelled: pd.DataFrame, task: str, classes: Sequence[Any] | None) -> Outcome:
    if Task.parse(task) is Task.REGRESSION:
        return Outcome(
            pd.to_numeric(labelled["label"], errors="coerce").to_numpy(dtype=float),
            pd.to_numeric(labelled["prediction"], errors="coerce").to_numpy(dtype=float),
        )
    proba_cols = [c for c in labelled.columns if str(c).startswith(PROBA)]
    names = [str(c)[len(PROBA) :] for c in proba_cols]
    known = [label_text(c) for c in classes] if classes else names
    ordered = [f"{PROBA}{c}" for c in known if f"{PROBA}{c}" in proba_cols]
    proba = labelled[ordered].to_numpy(dtype=float) if len(ordered) == len(known) else None
    return Outcome(
        np.asarray([label_text(v) for v in labelled["label"]], dtype=object),
        np.asarray([label_text(v) for v in labelled["prediction"]], dtype=object),
        proba,
        np.asarray(known, dtype=object),
    )


def label_text(value: Any) -> str:
    """A class label as text: ``1``, ``1.0`` and ``"1"`` are the same class."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | float | np.integer | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)
