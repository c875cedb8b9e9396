"""Every gate kind, passing and failing, with the sentence it gives."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sluice.errors import GateFailed
from sluice.gates import GateContext, GateResult, evaluate_gates, parse_gates, raise_if_failed

REG = GateContext(
    task="regression",
    metrics={"rmse": 80.0, "r2": 0.8},
    baseline_metrics={"rmse": 100.0, "r2": 0.0},
    champion_metrics={"rmse": 78.0, "r2": 0.81},
    champion_version=3,
    validation_errors=0,
    model_size_bytes=2_500_000,
    latency_ms_per_row=0.5,
)


def one(gate: dict[str, object], ctx: GateContext = REG) -> GateResult:
    (result,) = evaluate_gates(parse_gates([gate]), ctx)
    return result


def test_metric_max_passes_and_fails() -> None:
    ok = one({"kind": "metric", "metric": "rmse", "max": 120})
    assert (ok.passed, ok.observed, ok.threshold) == (True, 80.0, 120.0)
    assert ok.reason == "rmse is 80 on the holdout, at most 120 as required."
    bad = one({"kind": "metric", "metric": "rmse", "max": 70})
    assert (bad.passed, bad.observed, bad.threshold, bad.kind, bad.gate) == (
        False, 80.0, 70.0, "metric", "rmse <= 70",
    )  # fmt: skip
    assert bad.reason == (
        "rmse is 80 on the holdout, above the maximum of 70 by 10. Improve the model "
        "(more data, features or candidates) or relax the gate in sluice.yaml."
    )


def test_metric_min_fails_below() -> None:
    bad = one({"kind": "metric", "metric": "r2", "min": 0.9})
    assert not bad.passed
    assert bad.reason.startswith("r2 is 0.8 on the holdout, below the minimum of 0.9 by 0.1.")
    assert one({"kind": "metric", "metric": "r2", "min": 0.5, "max": 1}).passed


def test_beats_baseline_relative_for_an_error_metric() -> None:
    ok = one({"kind": "beats_baseline", "metric": "rmse", "margin": 0.15})
    assert ok.passed and ok.observed == pytest.approx(0.2)
    assert (
        ok.reason
        == "rmse is 80 against the baseline's 100: 20 % better, at least the 15 % required."
    )
    bad = one({"kind": "beats_baseline", "metric": "rmse", "margin": 0.3})
    assert not bad.passed
    assert bad.reason.startswith(
        "rmse is 80 against the baseline's 100: 20 % better, short of the 30 % required by 10 %."
    )


def test_beats_baseline_absolute_for_a_score() -> None:
    ok = one({"kind": "beats_baseline", "metric": "r2", "margin": 0.5, "absolute": True})
    assert ok.passed and ok.observed == pytest.approx(0.8)
    bad = one({"kind": "beats_baseline", "metric": "r2", "margin": 0.9, "absolute": True})
    assert not bad.passed and "short of the 0.9 required by 0.1" in bad.reason


def test_worse_than_baseline_fails_even_with_zero_margin() -> None:
    ctx = replace(REG, metrics={"rmse": 110.0})
    bad = one({"kind": "beats_baseline", "metric": "rmse"}, ctx)
    assert not bad.passed and bad.observed == pytest.approx(-0.1)
    assert "-10 % better" in bad.reason


def test_relative_margin_on_a_zero_baseline_is_explained() -> None:
    bad = one({"kind": "beats_baseline", "metric": "r2", "margin": 0.1})
    assert not bad.passed and bad.observed is None
    assert bad.reason == (
        "The baseline's r2 is 0, so a relative margin is undefined. "
        "Set 'absolute: true' on this gate in sluice.yaml."
    )


def test_no_regression_against_the_champion() -> None:
    ok = one({"kind": "no_regression", "metric": "rmse", "tolerance": 0.05})
    assert ok.passed and ok.observed == pytest.approx(2 / 78)
    assert ok.reason == (
        "rmse is 80 against the champion (version 3)'s 78 on the same holdout: 2.56 % worse, "
        "within the tolerance of 5 %."
    )
    bad = one({"kind": "no_regression", "metric": "rmse", "tolerance": 0.01})
    assert not bad.passed
    assert "2.56 % worse, beyond the tolerance of 1 % by 1.56 %. Keep the champion" in bad.reason
    absolute = one({"kind": "no_regression", "metric": "r2", "tolerance": 0.02, "relative": False})
    assert absolute.passed and absolute.observed == pytest.approx(0.01)
    better = one(
        {"kind": "no_regression", "metric": "r2"}, replace(REG, champion_metrics={"r2": 0.7})
    )
    assert better.passed and better.reason.endswith(" better: no regression.")


def test_no_regression_passes_without_a_champion() -> None:
    ok = one({"kind": "no_regression", "metric": "rmse"}, replace(REG, champion_metrics=None))
    assert ok.passed and ok.observed is None
    assert ok.reason.startswith("No champion yet")


def test_validation_gate() -> None:
    assert one({"kind": "validation"}).passed
    bad = one({"kind": "validation"}, replace(REG, validation_errors=3))
    assert not bad.passed and (bad.observed, bad.threshold) == (3.0, 0.0)
    assert bad.reason == (
        "Validation found 3 errors, 3 more than the 0 allowed. "
        "Fix the data or the schema; the run report lists them."
    )
    assert one({"kind": "validation", "max_errors": 3}, replace(REG, validation_errors=3)).passed
    unrun = one({"kind": "validation"}, replace(REG, validation_errors=None))
    assert not unrun.passed and "did not run" in unrun.reason


def test_model_size_gate() -> None:
    ok = one({"kind": "max_model_size", "max_mb": 5})
    assert ok.passed and ok.observed == 2.5
    bad = one({"kind": "max_model_size", "max_mb": 2})
    assert not bad.passed
    assert bad.reason.startswith("The saved model is 2.5 MB, 0.5 MB over the 2 MB allowed.")


def test_latency_gate() -> None:
    assert one({"kind": "max_latency", "max_ms_per_row": 1}).passed
    bad = one({"kind": "max_latency", "max_ms_per_row": 0.2})
    assert not bad.passed
    assert bad.reason.startswith("Predicting takes 0.5 ms per row, 0.3 ms over the 0.2 ms allowed.")
    unmeasured = one(
        {"kind": "max_latency", "max_ms_per_row": 1}, replace(REG, latency_ms_per_row=None)
    )
    assert not unmeasured.passed
    assert unmeasured.reason == (
        "The pipeline did not measure the predict latency, so the gate cannot pass. Use a "
        "pipeline that measures it, or remove this gate from sluice.yaml."
    )


def test_an_unmeasured_model_size_fails_closed() -> None:
    bad = one({"kind": "max_model_size", "max_mb": 5}, replace(REG, model_size_bytes=None))
    assert (bad.passed, bad.observed) == (False, None)
    assert bad.reason.startswith("The pipeline did not measure the model size, so the gate")


def test_a_missing_metric_fails_closed() -> None:
    bad = one({"kind": "metric", "metric": "mape", "max": 1})
    assert not bad.passed and bad.observed is None
    assert bad.reason.startswith("mape is missing from the candidate's holdout metrics")


@pytest.mark.parametrize(
    ("gate", "where"),
    [
        ({"kind": "metric", "metric": "rmse", "max": 120}, "the candidate's holdout metrics"),
        ({"kind": "beats_baseline", "metric": "rmse"}, "the candidate's holdout metrics"),
        ({"kind": "no_regression", "metric": "rmse"}, "the candidate's holdout metrics"),
    ],
)
def test_a_nan_metric_fails_closed(gate: dict[str, object], where: str) -> None:
    """NaN compares False both ways, so without care it would pass a maximum."""
    bad = one(gate, replace(REG, metrics={"rmse": float("nan")}))
    assert (bad.passed, bad.observed) == (False, None)
    assert bad.reason.startswith(f"rmse is missing from {where}, so the gate cannot pass.")


def test_a_nan_baseline_or_champion_fails_closed() -> None:
    nan = {"rmse": float("nan")}
    base = one({"kind": "beats_baseline", "metric": "rmse"}, replace(REG, baseline_metrics=nan))
    assert base.reason.startswith("rmse is missing from the baseline's holdout metrics")
    champ = one({"kind": "no_regression", "metric": "rmse"}, replace(REG, champion_metrics=nan))
    assert champ.reason.startswith("rmse is missing from the champion's metrics on this holdout")
    assert not base.passed and not champ.passed
    slow = one(
        {"kind": "max_latency", "max_ms_per_row": 1}, replace(REG, latency_ms_per_row=nan["rmse"])
    )
    assert not slow.passed


def test_classification_scores_are_greater_is_better() -> None:
    ctx = GateContext(
        task="classification",
        metrics={"roc_auc": 0.9, "log_loss": 0.3},
        baseline_metrics={"roc_auc": 0.5, "log_loss": 0.69},
        champion_metrics={"roc_auc": 0.92, "log_loss": 0.25},
    )
    gates = [
        {"kind": "beats_baseline", "metric": "roc_auc", "margin": 0.5},
        {"kind": "beats_baseline", "metric": "log_loss", "margin": 0.5},
        {"kind": "no_regression", "metric": "roc_auc", "tolerance": 0.01},
        {"kind": "no_regression", "metric": "log_loss", "tolerance": 0.1},
    ]
    verdicts = [r.passed for r in evaluate_gates(parse_gates(gates), ctx)]
    assert verdicts == [True, True, False, False]


def test_raise_if_failed_lists_every_failure() -> None:
    results = evaluate_gates(
        parse_gates(
            [
                {"kind": "metric", "metric": "rmse", "max": 70},
                {"kind": "validation"},
                {"kind": "max_latency", "max_ms_per_row": 0.1},
            ]
        ),
        REG,
    )
    with pytest.raises(GateFailed) as info:
        raise_if_failed(results)
    message = str(info.value)
    assert message.startswith(
        "2 of 3 gates failed, so nothing was registered. rmse <= 70: rmse is 80"
    )
    assert "latency <= 0.1 ms/row: Predicting takes 0.5 ms per row" in message
    assert info.value.exit_code == 1 and info.value.results == results
    raise_if_failed(results[1:2])
