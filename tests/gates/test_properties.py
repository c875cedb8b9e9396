"""Properties of verdicts over many values: bounds, directions, and the stored round trip."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sluice.gates import GateContext, GateResult, evaluate_gates, parse_gates

values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False)


@settings(deadline=None)
@given(values, values, values)
def test_metric_gate_passes_exactly_inside_its_bounds(value: float, a: float, b: float) -> None:
    low, high = min(a, b), max(a, b)
    gate = {"kind": "metric", "metric": "r2", "min": low, "max": high}
    (result,) = evaluate_gates(
        parse_gates([gate]), GateContext(task="regression", metrics={"r2": value})
    )
    assert result.passed == (low <= value <= high)
    assert result.observed == value


@settings(deadline=None)
@given(positive, positive, st.floats(min_value=0, max_value=2))
def test_beats_baseline_agrees_with_direction(model: float, base: float, margin: float) -> None:
    """For an error (rmse) the model must be lower, for a score (r2) higher, by the margin."""
    ctx = GateContext(
        task="regression",
        metrics={"rmse": model, "r2": model},
        baseline_metrics={"rmse": base, "r2": base},
    )
    specs = parse_gates(
        [
            {"kind": "beats_baseline", "metric": "rmse", "margin": margin},
            {"kind": "beats_baseline", "metric": "r2", "margin": margin, "name": "score"},
        ]
    )
    error, score = evaluate_gates(specs, ctx)
    assert error.passed == ((base - model) / base >= margin)
    assert score.passed == ((model - base) / base >= margin)


@settings(deadline=None)
@given(positive, positive, st.floats(min_value=0, max_value=1), st.booleans())
def test_no_regression_is_symmetric_in_direction(
    model: float, champ: float, tol: float, rel: bool
) -> None:
    ctx = GateContext(task="regression", metrics={"mae": model}, champion_metrics={"mae": champ})
    gate = {"kind": "no_regression", "metric": "mae", "tolerance": tol, "relative": rel}
    (result,) = evaluate_gates(parse_gates([gate]), ctx)
    worse = (model - champ) / champ if rel else model - champ
    assert result.passed == (worse <= tol)
    assert GateResult.from_dict(result.to_dict()) == result
