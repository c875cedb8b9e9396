"""A learning curve and a verdict on whether more data would likely help.

Too little data is among the most common reasons a model disappoints. Each
cross-validation split is refitted on growing shares of its training rows (the
most recent rows when the data is time-ordered, a fixed random subset otherwise)
and scored on its validation rows.

The rule (stated in the verdict): take the mean validation score at the two
largest sizes; if it still improves by more than ``min_gain`` (a share of the
score, default 1 %) per doubling of the training rows, more data would likely
help; otherwise the curve has flattened.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sluice.models.metrics import Metric, compute, outcome
from sluice.models.splits import make_splitter
from sluice.models.types import Task

TRAIN_SHARES = (0.1, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class LearningCurve:
    train_sizes: list[int]
    train_scores: list[float]
    valid_scores: list[float]
    gain_per_doubling: float
    more_data_helps: bool
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def learning_curve(
    model: Any,
    X: Any,
    y: Any,
    *,
    task: Task,
    metric: Metric,
    folds: int,
    time_ordered: bool,
    min_gain: float = 0.01,
    random_state: int = 0,
) -> LearningCurve:
    """Score vs training-set size on (X, y) (the training part), same kind of splits."""
    splitter = make_splitter(
        y, task=task, folds=folds, time_ordered=time_ordered, random_state=random_state
    )
    rng = np.random.default_rng(random_state)
    splits = [(t if time_ordered else rng.permutation(t), v) for t, v in splitter.split(X, y)]
    sizes, train, valid = [], [], []
    for share in TRAIN_SHARES:
        points = [_point(model, X, y, t, v, share, task, metric) for t, v in splits]
        sizes.append(int(np.mean([p[0] for p in points])))
        train.append(float(np.mean([p[1] for p in points])))
        valid.append(float(np.mean([p[2] for p in points])))
    return _verdict(sizes, train, valid, metric, min_gain)


def _point(
    model: Any,
    X: Any,
    y: Any,
    train: np.ndarray,
    valid: np.ndarray,
    share: float,
    task: Task,
    metric: Metric,
) -> tuple[int, float, float]:
    """(rows used, training score, validation score) for one split and one share."""
    from sklearn.base import clone

    rows = train[-max(2, round(share * len(train))) :]
    fitted = clone(model).fit(X.iloc[rows], y.iloc[rows])
    on_train = compute(outcome(fitted, X.iloc[rows], y.iloc[rows], task), metric)
    on_valid = compute(outcome(fitted, X.iloc[valid], y.iloc[valid], task), metric)
    return len(rows), on_train, on_valid


def _verdict(
    sizes: list[int], train: list[float], valid: list[float], metric: Metric, min_gain: float
) -> LearningCurve:
    doublings = math.log2(sizes[-1] / sizes[-2]) if sizes[-2] > 0 else 0.0
    gain = 0.0
    if doublings > 0:
        gain = (metric.signed(valid[-1]) - metric.signed(valid[-2])) / doublings
    scale = abs(valid[-1]) or 1.0
    helps = bool(np.isfinite(gain) and gain / scale > min_gain)
    rule = (
        f"rule: more data likely helps when the CV {metric.label} still improves by more "
        f"than {min_gain:.0%} of its value per doubling of training rows between the two "
        "largest sizes"
    )
    span = f"(measured from {sizes[-2]} to {sizes[-1]} rows, scaled to a doubling)"
    if helps:
        text = (
            f"More data would likely help: CV {metric.label} improved by {gain:.4g} per "
            f"doubling {span} ({rule})."
        )
    else:
        text = (
            f"More data alone is unlikely to help much: CV {metric.label} changed by "
            f"{gain:+.4g} per doubling {span} ({rule}); better features may help more."
        )
    return LearningCurve(sizes, train, valid, float(gain), helps, text)
