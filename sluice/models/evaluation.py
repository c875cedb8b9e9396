"""Holdout evaluation of a chosen model beside the baseline, with the checks people forget.

Overfitting rule: the holdout score is worse than the training score by more than
``overfit_gap`` (a share of the training score, default 20 %).
Underfitting rule: the holdout score does not beat the baseline's holdout score by
more than ``min_gain_over_baseline`` (a share of the baseline's score, default 1 %).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sluice.models import plots
from sluice.models.learning import LearningCurve, learning_curve
from sluice.models.metrics import (
    DEFAULT_METRIC,
    Metric,
    Outcome,
    Scorer,
    compute,
    compute_all,
    get_metric,
    outcome,
)
from sluice.models.slices import SliceResult, slice_columns, slice_metrics, weakest
from sluice.models.splits import time_order
from sluice.models.threads import DEFAULT_OPENMP_THREADS, openmp_threads
from sluice.models.types import SchemaLike, Task


@dataclass(frozen=True)
class EvaluationSettings:
    overfit_gap: float = 0.20
    min_gain_over_baseline: float = 0.01
    slice_max_levels: int = 12
    slice_min_rows: int = 30
    importance_repeats: int = 5
    importance_max_rows: int = 2000
    learning_curve_folds: int = 3
    learning_curve: bool = True
    plots: bool = True
    random_state: int = 0
    openmp_threads: int = DEFAULT_OPENMP_THREADS  # see sluice.models.threads


@dataclass(frozen=True)
class Flag:
    """A yes/no finding with the rule that decided it and the numbers behind it."""

    flagged: bool
    rule: str
    detail: str


@dataclass
class Evaluation:
    task: str
    metric: str
    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    train_metrics: dict[str, float]
    overfitting: Flag
    underfitting: Flag
    slices: list[SliceResult]
    weakest_slices: list[str]
    importance: list[dict[str, Any]]
    learning_curve: LearningCurve | None
    plots: dict[str, str] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the plots, JSON-able."""
        out = {k: v for k, v in asdict(self).items() if k != "plots"}
        out["learning_curve"] = self.learning_curve.to_dict() if self.learning_curve else None
        return out


def evaluate(
    model: Any,
    baseline: Any,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    *,
    task: Task | str,
    schema: SchemaLike | None = None,
    metric: str | None = None,
    settings: EvaluationSettings | None = None,
) -> Evaluation:
    """Evaluate fitted ``model`` and ``baseline`` on the holdout (X_test, y_test).

    The learning curve refits clones of ``model`` on the training part only; the
    holdout is never used to fit anything.
    """
    task, settings = Task.parse(task), settings or EvaluationSettings()
    with openmp_threads(settings.openmp_threads):
        return _evaluate(
            model, baseline, X_train, y_train, X_test, y_test, task, schema, metric, settings
        )


def _evaluate(
    model: Any,
    baseline: Any,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    task: Task,
    schema: SchemaLike | None,
    metric: str | None,
    settings: EvaluationSettings,
) -> Evaluation:
    primary = get_metric(metric or DEFAULT_METRIC[task], task)
    said, said_train = outcome(model, X_test, y_test, task), outcome(model, X_train, y_train, task)
    scores, train_scores = compute_all(said, task), compute_all(said_train, task)
    base_scores = compute_all(outcome(baseline, X_test, y_test, task), task)
    value, base_value = compute(said, primary), base_scores.get(primary.name, float("nan"))
    slices = slice_metrics(X_test, said, primary, slice_column_names(X_test, schema, settings))
    result = Evaluation(
        task=task.value,
        metric=primary.name,
        metrics=scores,
        baseline_metrics=base_scores,
        train_metrics=train_scores,
        overfitting=_overfitting(
            primary, train_scores.get(primary.name, value), value, settings.overfit_gap
        ),
        underfitting=_underfitting(primary, value, base_value, settings.min_gain_over_baseline),
        slices=slices,
        weakest_slices=weakest(slices, primary, value, min_rows=settings.slice_min_rows),
        importance=_importance(model, X_test, y_test, task, primary, schema, settings),
        learning_curve=_curve(model, X_train, y_train, task, primary, schema, settings),
    )
    if settings.plots:
        result.plots = _plots(said, result, primary)
    return result


def slice_column_names(
    X: Any, schema: SchemaLike | None, settings: EvaluationSettings
) -> list[str]:
    return slice_columns(X, schema, settings.slice_max_levels)


def _relative_loss(metric: Metric, reference: float, value: float) -> float:
    """How much worse ``value`` is than ``reference``, as a share of |reference|."""
    loss = metric.signed(reference) - metric.signed(value)
    return loss / abs(reference) if reference else (float("inf") if loss > 0 else 0.0)


def _overfitting(metric: Metric, train: float, holdout: float, gap: float) -> Flag:
    share = _relative_loss(metric, train, holdout)
    rule = f"holdout {metric.label} worse than training {metric.label} by more than {gap:.0%} of it"
    detail = f"training {metric.label} {train:.4g}, holdout {holdout:.4g} ({share:+.1%} worse)"
    return Flag(bool(share > gap), rule, detail)


def _underfitting(metric: Metric, value: float, baseline: float, min_gain: float) -> Flag:
    gain = 0.0 - _relative_loss(metric, baseline, value)  # not -x: no '-0.0%' when equal
    rule = f"holdout {metric.label} does not beat the baseline's by more than {min_gain:.0%}"
    detail = f"model {metric.label} {value:.4g}, baseline {baseline:.4g} ({gain:+.1%} better)"
    return Flag(bool(not gain > min_gain), rule, detail)


def _used_columns(X: Any, schema: SchemaLike | None) -> list[str]:
    if schema is None:
        return list(X.columns)
    roles = {"feature", "time"}
    usable = {c.name for c in schema.columns if str(getattr(c.role, "value", c.role)) in roles}
    return [c for c in X.columns if c in usable and c != schema.target]


def _importance(
    model: Any,
    X: Any,
    y: Any,
    task: Task,
    metric: Metric,
    schema: SchemaLike | None,
    s: EvaluationSettings,
) -> list[dict[str, Any]]:
    """Permutation importance on the raw input columns, largest first."""
    from sklearn.inspection import permutation_importance

    columns = _used_columns(X, schema)
    rows = min(len(X), s.importance_max_rows)
    found = permutation_importance(
        model,
        X,
        y,
        scoring=Scorer(metric.name, task),
        n_repeats=s.importance_repeats,
        random_state=s.random_state,
        max_samples=rows,
        n_jobs=1,
    )
    position = {name: i for i, name in enumerate(X.columns)}
    ranked = [
        {
            "column": str(c),
            "mean": float(found.importances_mean[position[c]]),
            "std": float(found.importances_std[position[c]]),
        }
        for c in columns
    ]
    return sorted(ranked, key=lambda r: -r["mean"])


def _curve(
    model: Any,
    X: Any,
    y: Any,
    task: Task,
    metric: Metric,
    schema: SchemaLike | None,
    s: EvaluationSettings,
) -> LearningCurve | None:
    if not s.learning_curve:
        return None
    time_column = schema.time_column if schema is not None else None
    time_ordered = bool(time_column and time_column in X.columns)
    X, y = time_order(X, y, time_column)
    return learning_curve(
        model,
        X,
        y,
        task=task,
        metric=metric,
        folds=s.learning_curve_folds,
        time_ordered=time_ordered,
        random_state=s.random_state,
    )


def _plots(said: Outcome, result: Evaluation, metric: Metric) -> dict[str, str]:
    out: dict[str, str] = {}
    if result.task == Task.CLASSIFICATION.value and said.proba is not None:
        out["roc_curve"] = plots.roc_curve_svg(said)
        out["pr_curve"] = plots.pr_curve_svg(said)
    elif result.task == Task.REGRESSION.value:
        out["residuals"] = plots.residuals_svg(said)
        out["predicted_vs_actual"] = plots.predicted_vs_actual_svg(said)
    top = result.importance[:15]
    if top:
        out["importance"] = plots.importance_svg(
            [r["column"] for r in top], [r["mean"] for r in top], [r["std"] for r in top]
        )
    curve = result.learning_curve
    if curve is not None:
        out["learning_curve"] = plots.learning_curve_svg(
            curve.train_sizes, curve.train_scores, curve.valid_scores, metric.label
        )
    return out
