"""Metric registry: names per task, direction, values against hand computations, errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression, Ridge

from sluice.errors import ModelError, UnknownMetric
from sluice.models.metrics import (
    Outcome,
    Scorer,
    compute,
    compute_all,
    get_metric,
    metric_names,
    outcome,
)
from sluice.models.types import Task


def test_names_and_directions_per_task() -> None:
    assert metric_names("classification") == [
        "accuracy",
        "balanced_accuracy",
        "f1",
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier",
    ]
    assert metric_names("regression") == ["rmse", "mae", "r2", "mape"]
    lower = [
        n for n in metric_names("regression") if not get_metric(n, "regression").greater_is_better
    ]
    assert lower == ["rmse", "mae", "mape"]
    assert not get_metric("log_loss", "classification").greater_is_better


def test_an_unknown_metric_suggests_the_nearest_name() -> None:
    with pytest.raises(UnknownMetric) as err:
        get_metric("rmsee", "regression")
    assert str(err.value) == (
        "Expected a regression metric (rmse, mae, r2, mape); got 'rmsee'. Did you mean 'rmse'? "
        "Use one of these names in sluice.yaml."
    )
    assert isinstance(err.value, ModelError)


def test_an_unknown_task_is_refused() -> None:
    with pytest.raises(ModelError) as err:
        metric_names("clasification")
    assert str(err.value) == (
        "Task must be one of classification, regression; got 'clasification'. "
        "Did you mean 'classification'? Set 'task' in sluice.yaml."
    )


def test_regression_values_and_mape_only_where_defined() -> None:
    y = np.array([1.0, 2.0, 4.0])
    said = Outcome(y, np.array([1.0, 3.0, 2.0]))
    values = compute_all(said, "regression")
    assert values["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert values["mae"] == pytest.approx(1.0)
    assert values["mape"] == pytest.approx((0 + 0.5 + 0.5) / 3)
    with_zero = Outcome(np.array([0.0, 2.0]), np.array([1.0, 2.0]))
    assert "mape" not in compute_all(with_zero, "regression")
    with pytest.raises(ModelError) as err:
        compute(with_zero, get_metric("mape", "regression"))
    assert str(err.value) == (
        "Expected metric 'mape' to be defined on these rows; mape is undefined when a target "
        "value is 0. Choose another metric in sluice.yaml."
    )


def test_binary_metrics_use_the_positive_class() -> None:
    y = np.array(["no", "no", "yes", "yes"])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.35, 0.65], [0.2, 0.8]])
    said = Outcome(y, np.array(["no", "yes", "yes", "yes"]), proba, np.array(["no", "yes"]))
    values = compute_all(said, "classification")
    assert values["accuracy"] == 0.75
    assert values["roc_auc"] == 1.0
    assert values["f1"] == pytest.approx(0.8)  # precision 2/3, recall 1 for "yes"
    assert values["brier"] == pytest.approx(np.mean([0.01, 0.36, 0.1225, 0.04]))


def test_multiclass_metrics_and_brier_only_for_two_classes() -> None:
    X = np.random.default_rng(0).normal(size=(90, 2))
    y = np.array(["a", "b", "c"])[np.argmax(np.c_[X, -X.sum(axis=1)], axis=1)]
    said = outcome(LogisticRegression().fit(X, y), X, y, "classification")
    values = compute_all(said, "classification")
    assert set(values) == {"accuracy", "balanced_accuracy", "f1", "roc_auc", "pr_auc", "log_loss"}
    assert values["roc_auc"] > 0.9 and values["accuracy"] > 0.8
    with pytest.raises(ModelError, match="brier is defined for two classes only; got 3"):
        compute(said, get_metric("brier", "classification"))


def test_a_class_missing_from_the_rows_does_not_break_ovr_metrics() -> None:
    X = np.arange(12, dtype=float).reshape(-1, 1)
    y = np.array(["a"] * 4 + ["b"] * 4 + ["c"] * 4)
    model = LogisticRegression().fit(X, y)
    said = outcome(model, X[:8], y[:8], "classification")
    assert 0.5 < compute(said, get_metric("roc_auc", "classification")) <= 1.0


def test_the_scorer_is_greater_is_better() -> None:
    X = np.arange(20, dtype=float).reshape(-1, 1)
    y = 2 * X[:, 0] + 1
    assert Scorer("rmse", Task.REGRESSION)(Ridge(alpha=1e-9).fit(X, y), X, y) == pytest.approx(
        0, abs=1e-6
    )
    X2, y2 = X, (X[:, 0] > 9).astype(int)
    assert Scorer("log_loss", Task.CLASSIFICATION)(DummyClassifier().fit(X2, y2), X2, y2) < 0
