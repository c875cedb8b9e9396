"""Gate definitions: parsed from sluice.yaml-shaped mappings, checked against the task."""

from __future__ import annotations

import pytest

from sluice.errors import GateError
from sluice.gates import (
    BeatsBaselineGate,
    MaxLatencyGate,
    MaxModelSizeGate,
    MetricGate,
    NoRegressionGate,
    ValidationGate,
    check_gates,
    parse_gates,
)

ALL = [
    {"kind": "metric", "metric": "rmse", "max": 120},
    {"kind": "beats_baseline", "metric": "rmse", "margin": 0.2},
    {"kind": "no_regression", "metric": "rmse", "tolerance": 0.05, "relative": True},
    {"kind": "validation"},
    {"kind": "max_model_size", "max_mb": 50},
    {"kind": "max_latency", "max_ms_per_row": 2.0},
]


def test_every_kind_parses_to_its_class() -> None:
    specs = parse_gates(ALL)
    assert [type(s) for s in specs] == [
        MetricGate,
        BeatsBaselineGate,
        NoRegressionGate,
        ValidationGate,
        MaxModelSizeGate,
        MaxLatencyGate,
    ]
    assert [s.label for s in specs] == [
        "rmse <= 120",
        "beats baseline on rmse",
        "no regression on rmse",
        "validation",
        "model size <= 50 MB",
        "latency <= 2 ms/row",
    ]
    check_gates(specs, "regression")


def test_a_given_name_wins_and_specs_are_frozen() -> None:
    (spec,) = parse_gates([{"kind": "metric", "metric": "r2", "min": 0.5, "name": "good enough"}])
    assert spec.label == "good enough"
    with pytest.raises(ValueError):
        spec.name = "other"  # type: ignore[misc]


def test_unknown_kind_suggests_the_nearest() -> None:
    with pytest.raises(GateError) as info:
        parse_gates([{"kind": "metirc", "metric": "rmse", "max": 1}])
    assert str(info.value) == (
        "Gate #1 must have a kind among metric, beats_baseline, no_regression, validation, "
        "max_model_size, max_latency; got 'metirc'. Did you mean 'metric'? "
        "Fix the gates: list in sluice.yaml."
    )


def test_unknown_key_is_named_with_a_suggestion() -> None:
    with pytest.raises(GateError) as info:
        parse_gates(
            [{"kind": "validation"}, {"kind": "beats_baseline", "metric": "rmse", "margn": 0.1}]
        )
    assert str(info.value) == (
        "Gate #2 (beats_baseline) has an unknown key 'margn'; expected keys: name, metric, margin, "
        "absolute. Did you mean 'margin'? Fix the gates: list in sluice.yaml."
    )


def test_a_misspelt_required_key_is_named_before_the_missing_one() -> None:
    with pytest.raises(GateError) as info:
        parse_gates([{"kind": "max_model_size", "max_mbb": 200}])
    assert str(info.value) == (
        "Gate #1 (max_model_size) has an unknown key 'max_mbb'; expected keys: name, max_mb. "
        "Did you mean 'max_mb'? Fix the gates: list in sluice.yaml."
    )


def test_bad_values_are_explained() -> None:
    with pytest.raises(GateError, match=r"Gate #1 \(metric\) is invalid: .*needs 'min' or 'max'"):
        parse_gates([{"kind": "metric", "metric": "rmse"}])
    with pytest.raises(
        GateError, match=r"Gate #1 \(max_model_size\) key 'max_mb' is invalid: .*greater than 0"
    ):
        parse_gates([{"kind": "max_model_size", "max_mb": -3}])
    with pytest.raises(GateError, match=r"'min' \(2.0\) is above 'max' \(1.0\)"):
        parse_gates([{"kind": "metric", "metric": "r2", "min": 2, "max": 1}])
    with pytest.raises(GateError, match="Gate #1 must be a mapping"):
        parse_gates(["rmse < 3"])


def test_a_nan_bound_is_refused_because_every_value_would_pass_it() -> None:
    with pytest.raises(GateError) as info:
        parse_gates([{"kind": "metric", "metric": "rmse", "max": float("nan")}])
    assert str(info.value) == (
        "Gate #1 (metric) key 'max' is invalid: Input should be a finite number; got nan. "
        "Fix the gates: list in sluice.yaml."
    )


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(GateError, match="two gates are called 'validation'"):
        parse_gates([{"kind": "validation"}, {"kind": "validation", "max_errors": 2}])


def test_unknown_metric_is_refused_with_a_suggestion() -> None:
    specs = parse_gates([{"kind": "metric", "metric": "rmsee", "max": 100}])
    with pytest.raises(GateError) as info:
        check_gates(specs, "regression")
    assert str(info.value) == (
        "Gate 'rmsee <= 100' names metric 'rmsee', which is not defined for regression; "
        "expected one of: rmse, mae, r2, mape. Did you mean 'rmse'? "
        "Fix the gates: list in sluice.yaml."
    )


def test_a_metric_of_the_other_task_says_so() -> None:
    specs = parse_gates([{"kind": "no_regression", "metric": "accuracy"}])
    with pytest.raises(
        GateError, match=r"not defined for regression \('accuracy' is a classification metric\)"
    ):
        check_gates(specs, "regression")
    check_gates(specs, "classification")


def test_the_task_may_be_the_enum_and_evaluation_checks_too() -> None:
    from sluice.gates import GateContext, evaluate_gates
    from sluice.models.types import Task

    specs = parse_gates([{"kind": "beats_baseline", "metric": "roc_auc"}])
    with pytest.raises(
        GateError, match=r"not defined for regression \('roc_auc' is a classification"
    ):
        check_gates(specs, Task.REGRESSION)
    with pytest.raises(GateError, match="names metric 'roc_auc'"):
        evaluate_gates(specs, GateContext(task="regression", metrics={"roc_auc": 0.9}))
