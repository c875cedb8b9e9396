"""Metric names per task, their direction, and how to compute them from a model.

Gates check metric names against :func:`metric_names` when a gate is defined, so
an unknown name fails early with a suggestion instead of halfway through a run.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sluice.errors import ModelError, UnknownMetric, did_you_mean
from sluice.models.types import Task


@dataclass(frozen=True)
class Outcome:
    """What a model said about some rows: labels, probabilities, and the class order."""

    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None = None
    classes: np.ndarray | None = None


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    task: Task
    greater_is_better: bool
    fn: Callable[[Outcome], float]
    needs_proba: bool = False
    binary_only: bool = False

    def not_applicable(self, outcome: Outcome) -> str | None:
        """Why this metric has no value on these rows, or None when it has one."""
        n_classes = 0 if outcome.classes is None else len(outcome.classes)
        if self.binary_only and n_classes != 2:
            return f"{self.name} is defined for two classes only; got {n_classes}"
        if self.needs_proba and outcome.proba is None:
            return f"{self.name} needs predicted probabilities; the model gives none"
        if self.needs_proba and len(np.unique(outcome.y_true)) < 2:
            return f"{self.name} needs at least two classes among the rows"
        if self.name == "mape" and np.any(outcome.y_true == 0):
            return "mape is undefined when a target value is 0"
        return None

    def signed(self, value: float) -> float:
        """The value with 'greater is better' orientation (errors negated)."""
        return value if self.greater_is_better else -value

    def is_better(self, a: float, b: float) -> bool:
        return self.signed(a) > self.signed(b)


def _positive(o: Outcome) -> Any:
    assert o.classes is not None
    return o.classes[-1]


def _ovr(o: Outcome, score: Callable[[np.ndarray, np.ndarray], float]) -> float:
    """Binary score of the positive class, or the macro mean one-vs-rest over classes."""
    assert o.proba is not None and o.classes is not None
    if len(o.classes) == 2:
        return float(score(o.y_true == o.classes[1], o.proba[:, 1]))
    values = []
    for i, label in enumerate(o.classes):
        hits = o.y_true == label
        if 0 < hits.sum() < len(hits):
            values.append(score(hits, o.proba[:, i]))
    return float(np.mean(values))


def _classification() -> list[Metric]:
    from sklearn import metrics as m

    def f1(o: Outcome) -> float:
        if o.classes is not None and len(o.classes) == 2:
            return float(m.f1_score(o.y_true, o.y_pred, pos_label=_positive(o)))
        return float(m.f1_score(o.y_true, o.y_pred, average="macro"))

    c = Task.CLASSIFICATION
    return [
        Metric(
            "accuracy", "accuracy", c, True, lambda o: float(m.accuracy_score(o.y_true, o.y_pred))
        ),
        Metric(
            "balanced_accuracy",
            "balanced accuracy",
            c,
            True,
            lambda o: float(m.balanced_accuracy_score(o.y_true, o.y_pred)),
        ),
        Metric("f1", "F1", c, True, f1),
        Metric("roc_auc", "ROC AUC", c, True, lambda o: _ovr(o, m.roc_auc_score), needs_proba=True),
        Metric(
            "pr_auc",
            "PR AUC",
            c,
            True,
            lambda o: _ovr(o, m.average_precision_score),
            needs_proba=True,
        ),
        Metric(
            "log_loss",
            "log loss",
            c,
            False,
            lambda o: float(m.log_loss(o.y_true, o.proba, labels=o.classes)),
            needs_proba=True,
        ),
        Metric(
            "brier",
            "Brier score",
            c,
            False,
            lambda o: float(m.brier_score_loss(o.y_true == _positive(o), o.proba[:, 1])),  # type: ignore[index]
            needs_proba=True,
            binary_only=True,
        ),
    ]


def _regression() -> list[Metric]:
    from sklearn import metrics as m

    r = Task.REGRESSION
    return [
        Metric(
            "rmse", "RMSE", r, False, lambda o: float(m.root_mean_squared_error(o.y_true, o.y_pred))
        ),
        Metric("mae", "MAE", r, False, lambda o: float(m.mean_absolute_error(o.y_true, o.y_pred))),
        Metric("r2", "R²", r, True, lambda o: float(m.r2_score(o.y_true, o.y_pred))),
        Metric(
            "mape",
            "MAPE",
            r,
            False,
            lambda o: float(m.mean_absolute_percentage_error(o.y_true, o.y_pred)),
        ),
    ]


def registry(task: Task | str) -> dict[str, Metric]:
    """Every metric of ``task`` by name, in display order."""
    task = Task.parse(task)
    found = _classification() if task is Task.CLASSIFICATION else _regression()
    return {metric.name: metric for metric in found}


def metric_names(task: Task | str) -> list[str]:
    """The metric names a gate or a selection policy may use for ``task``."""
    return list(registry(task))


DEFAULT_METRIC = {Task.CLASSIFICATION: "roc_auc", Task.REGRESSION: "rmse"}


def get_metric(name: str, task: Task | str) -> Metric:
    """The metric called ``name``; UnknownMetric with a suggestion otherwise."""
    known = registry(task)
    if name in known:
        return known[name]
    raise UnknownMetric(
        f"Expected a {Task.parse(task).value} metric ({', '.join(known)}); got {name!r}."
        f"{did_you_mean(name, known)} Use one of these names in sluice.yaml."
    )


def outcome(model: Any, X: Any, y: Any, task: Task | str) -> Outcome:
    """Predict once: labels, and probabilities when the model gives them."""
    y_true = np.asarray(y)
    if Task.parse(task) is Task.REGRESSION:
        return Outcome(y_true, np.asarray(model.predict(X), dtype=float))
    proba = model.predict_proba(X) if hasattr(model, "predict_proba") else None
    classes = np.asarray(model.classes_)
    y_pred = (
        classes[np.argmax(proba, axis=1)] if proba is not None else np.asarray(model.predict(X))
    )
    return Outcome(y_true, y_pred, proba, classes)


def compute(outcome: Outcome, metric: Metric) -> float:
    """One metric's value; ModelError saying why when it is not defined here."""
    reason = metric.not_applicable(outcome)
    if reason:
        raise ModelError(
            f"Expected metric {metric.name!r} to be defined on these rows; {reason}. "
            "Choose another metric in sluice.yaml."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn's "class absent from y_true"
        return metric.fn(outcome)


def compute_all(
    outcome: Outcome, task: Task | str, names: Sequence[str] | None = None
) -> dict[str, float]:
    """Every applicable metric of ``task`` (or of ``names``) on these rows."""
    chosen = [get_metric(n, task) for n in names] if names else list(registry(task).values())
    return {m.name: compute(outcome, m) for m in chosen if m.not_applicable(outcome) is None}


@dataclass(frozen=True)
class Scorer:
    """A scikit-learn scorer (estimator, X, y) -> float, greater is better, for one metric."""

    metric_name: str
    task: Task

    def __call__(self, estimator: Any, X: Any, y: Any) -> float:
        metric = get_metric(self.metric_name, self.task)
        return metric.signed(compute(outcome(estimator, X, y, self.task), metric))
