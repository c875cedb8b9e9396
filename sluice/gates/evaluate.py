"""Checking gate definitions against the task, and evaluating them on a candidate.

Every verdict is a sentence: which check, the observed value against the
threshold, by how much, and what to do when it failed. Directions come from
``sluice.models.metrics``: for errors (rmse, log loss...) lower is better.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sluice.errors import GateError, GateFailed, did_you_mean
from sluice.gates.results import GateContext, GateResult
from sluice.gates.spec import (
    METRIC_GATES,
    BeatsBaselineGate,
    GateSpec,
    MaxLatencyGate,
    MaxModelSizeGate,
    MetricGate,
    NoRegressionGate,
    ValidationGate,
)

MB = 1_000_000


def check_gates(specs: Sequence[GateSpec], task: Any) -> None:
    """Every metric a gate names must exist for ``task``; GateError with a suggestion otherwise."""
    from sluice.models.metrics import metric_names
    from sluice.models.types import Task

    task_name = Task.parse(task).value
    names = metric_names(task_name)
    for spec in specs:
        if not isinstance(spec, METRIC_GATES) or spec.metric in names:
            continue
        others = [t.value for t in Task if t.value != task_name and spec.metric in metric_names(t)]
        why = f" ({spec.metric!r} is a {others[0]} metric)" if others else ""
        raise GateError(
            f"Gate {spec.label!r} names metric {spec.metric!r}, which is not defined for "
            f"{task_name}{why}; expected one of: {', '.join(names)}."
            f"{did_you_mean(spec.metric, names)} "
            "Fix the gates: list in sluice.yaml."
        )


def evaluate_gates(specs: Sequence[GateSpec], ctx: GateContext) -> list[GateResult]:
    """One verdict per gate, in order (after checking the gates against the task)."""
    check_gates(specs, ctx.task)
    return [_EVALUATORS[type(spec)](spec, ctx) for spec in specs]


def raise_if_failed(results: Sequence[GateResult]) -> None:
    """GateFailed listing every failed gate's reason, or nothing when all passed."""
    failed = [r for r in results if not r.passed]
    if failed:
        lines = "; ".join(f"{r.gate}: {r.reason}" for r in failed)
        raise GateFailed(
            f"{len(failed)} of {len(results)} gates failed, so nothing was registered. {lines}",
            results=list(results),
        )


# -- one evaluator per kind ----------------------------------------------------


def _metric(spec: MetricGate, ctx: GateContext) -> GateResult:
    value = _number(ctx.metrics, spec.metric)
    if value is None:
        return _missing(spec, "the candidate's holdout metrics")
    if spec.max is not None and value > spec.max:
        return _result(
            spec,
            False,
            value,
            spec.max,
            f"{spec.metric} is {_f(value)} on the holdout, above the maximum of {_f(spec.max)} "
            f"by {_f(value - spec.max)}. Improve the model (more data, features or candidates) "
            "or relax the gate in sluice.yaml.",
        )
    if spec.min is not None and value < spec.min:
        return _result(
            spec,
            False,
            value,
            spec.min,
            f"{spec.metric} is {_f(value)} on the holdout, below the minimum of {_f(spec.min)} "
            f"by {_f(spec.min - value)}. Improve the model (more data, features or candidates) "
            "or relax the gate in sluice.yaml.",
        )
    bounds = [f"at least {_f(spec.min)}" if spec.min is not None else ""]
    bounds.append(f"at most {_f(spec.max)}" if spec.max is not None else "")
    threshold = spec.max if spec.max is not None else spec.min
    return _result(
        spec,
        True,
        value,
        threshold,
        f"{spec.metric} is {_f(value)} on the holdout, {' and '.join(b for b in bounds if b)} "
        "as required.",
    )


def _beats_baseline(spec: BeatsBaselineGate, ctx: GateContext) -> GateResult:
    value, base = _number(ctx.metrics, spec.metric), _number(ctx.baseline_metrics, spec.metric)
    if value is None:
        return _missing(spec, "the candidate's holdout metrics")
    if base is None:
        return _missing(spec, "the baseline's holdout metrics")
    gain = _gain(spec.metric, ctx.task, value, base)
    if not spec.absolute and base == 0:
        return _result(
            spec,
            False,
            None,
            spec.margin,
            f"The baseline's {spec.metric} is 0, so a relative margin is undefined. "
            "Set 'absolute: true' on this gate in sluice.yaml.",
        )
    observed = gain if spec.absolute else gain / abs(base)
    how = _amount(observed, spec.absolute)
    head = f"{spec.metric} is {_f(value)} against the baseline's {_f(base)}: "
    if observed >= spec.margin:
        return _result(
            spec,
            True,
            observed,
            spec.margin,
            f"{head}{how} better, at least the {_amount(spec.margin, spec.absolute)} required.",
        )
    return _result(
        spec,
        False,
        observed,
        spec.margin,
        f"{head}{how} better, short of the {_amount(spec.margin, spec.absolute)} required by "
        f"{_amount(spec.margin - observed, spec.absolute)}. The model learns little beyond the "
        "baseline: check the features and the target, or lower the margin in sluice.yaml.",
    )


def _no_regression(spec: NoRegressionGate, ctx: GateContext) -> GateResult:
    if ctx.champion_metrics is None:
        return _result(
            spec,
            True,
            None,
            spec.tolerance,
            "No champion yet, so there is nothing to regress from; "
            "this version becomes the champion.",
        )
    value, best = _number(ctx.metrics, spec.metric), _number(ctx.champion_metrics, spec.metric)
    if value is None:
        return _missing(spec, "the candidate's holdout metrics")
    if best is None:
        return _missing(spec, "the champion's metrics on this holdout")
    loss = -_gain(spec.metric, ctx.task, value, best)
    if spec.relative and best == 0:
        return _result(
            spec,
            loss <= 0,
            None,
            spec.tolerance,
            f"The champion's {spec.metric} is 0, so a relative tolerance is undefined; "
            f"the candidate is {'not worse' if loss <= 0 else 'worse'}. "
            "Set 'relative: false' for an absolute tolerance in sluice.yaml.",
        )
    observed = loss / abs(best) if spec.relative else loss
    champion = f"champion (version {ctx.champion_version})" if ctx.champion_version else "champion"
    head = f"{spec.metric} is {_f(value)} against the {champion}'s {_f(best)} on the same holdout: "
    change = (
        f"{_amount(-observed, not spec.relative)} better"
        if observed <= 0
        else f"{_amount(observed, not spec.relative)} worse"
    )
    tolerance = _amount(spec.tolerance, not spec.relative)
    if observed <= 0:
        return _result(spec, True, observed, spec.tolerance, f"{head}{change}: no regression.")
    if observed <= spec.tolerance:
        return _result(
            spec,
            True,
            observed,
            spec.tolerance,
            f"{head}{change}, within the tolerance of {tolerance}.",
        )
    return _result(
        spec,
        False,
        observed,
        spec.tolerance,
        f"{head}{change}, beyond the tolerance of {tolerance} by "
        f"{_amount(observed - spec.tolerance, not spec.relative)}. Keep the champion, and look at "
        "what changed in the data or the parameters.",
    )


def _validation(spec: ValidationGate, ctx: GateContext) -> GateResult:
    errors = ctx.validation_errors
    if errors is None:
        return _result(
            spec,
            False,
            None,
            spec.max_errors,
            "Validation did not run, so the data is unchecked. "
            "Run the validate step before the gates.",
        )
    if errors <= spec.max_errors:
        return _result(
            spec,
            True,
            errors,
            spec.max_errors,
            f"Validation found {errors} errors, at most {spec.max_errors} allowed.",
        )
    return _result(
        spec,
        False,
        errors,
        spec.max_errors,
        f"Validation found {errors} errors, {errors - spec.max_errors} more than the "
        f"{spec.max_errors} allowed. Fix the data or the schema; the run report lists them.",
    )


def _max_model_size(spec: MaxModelSizeGate, ctx: GateContext) -> GateResult:
    if ctx.model_size_bytes is None:
        return _unmeasured(spec, "the model size")
    size = ctx.model_size_bytes / MB
    if size <= spec.max_mb:
        return _result(
            spec,
            True,
            size,
            spec.max_mb,
            f"The saved model is {_f(size)} MB, within the {_f(spec.max_mb)} MB allowed.",
        )
    return _result(
        spec,
        False,
        size,
        spec.max_mb,
        f"The saved model is {_f(size)} MB, {_f(size - spec.max_mb)} MB over the "
        f"{_f(spec.max_mb)} MB allowed. Prefer a smaller candidate (fewer or shallower trees) "
        "or raise max_mb in sluice.yaml.",
    )


def _max_latency(spec: MaxLatencyGate, ctx: GateContext) -> GateResult:
    ms = ctx.latency_ms_per_row
    if ms is None or math.isnan(ms):
        return _unmeasured(spec, "the predict latency")
    if ms <= spec.max_ms_per_row:
        return _result(
            spec,
            True,
            ms,
            spec.max_ms_per_row,
            f"Predicting takes {_f(ms)} ms per row, within the {_f(spec.max_ms_per_row)} ms "
            "allowed.",
        )
    return _result(
        spec,
        False,
        ms,
        spec.max_ms_per_row,
        f"Predicting takes {_f(ms)} ms per row, {_f(ms - spec.max_ms_per_row)} ms over the "
        f"{_f(spec.max_ms_per_row)} ms allowed. Prefer a faster candidate or raise "
        "max_ms_per_row in sluice.yaml.",
    )


_EVALUATORS: dict[type, Callable[[Any, GateContext], GateResult]] = {
    MetricGate: _metric,
    BeatsBaselineGate: _beats_baseline,
    NoRegressionGate: _no_regression,
    ValidationGate: _validation,
    MaxModelSizeGate: _max_model_size,
    MaxLatencyGate: _max_latency,
}


# -- helpers ---------------------------------------------------------------------


def _gain(metric: str, task: str, value: float, reference: float) -> float:
    """How much better ``value`` is than ``reference`` (positive = better), by direction."""
    from sluice.models.metrics import get_metric

    better_up = get_metric(metric, task).greater_is_better
    return value - reference if better_up else reference - value


def _number(values: Mapping[str, float], key: str) -> float | None:
    """A metric's value; None when absent or NaN (NaN compares False, so it would pass a max)."""
    value = values.get(key)
    return None if value is None or math.isnan(value) else value


def _missing(spec: MetricGate | BeatsBaselineGate | NoRegressionGate, where: str) -> GateResult:
    return _result(
        spec,
        False,
        None,
        None,
        f"{spec.metric} is missing from {where}, so the gate cannot pass. It may be "
        "undefined for this data (mape with zero targets, roc_auc with one class); choose "
        "another metric in sluice.yaml.",
    )


def _unmeasured(spec: MaxModelSizeGate | MaxLatencyGate, what: str) -> GateResult:
    return _result(
        spec,
        False,
        None,
        None,
        f"The pipeline did not measure {what}, so the gate cannot pass. Use a pipeline that "
        "measures it, or remove this gate from sluice.yaml.",
    )


def _result(
    spec: GateSpec, passed: bool, observed: float | None, threshold: float | None, reason: str
) -> GateResult:
    return GateResult(
        gate=spec.label,
        kind=spec.kind,
        passed=passed,
        observed=None if observed is None else float(observed),
        threshold=None if threshold is None else float(threshold),
        reason=reason,
    )


def _f(value: float) -> str:
    return f"{value:.4g}"


def _amount(value: float, absolute: bool) -> str:
    return _f(value) if absolute else f"{value * 100:.3g} %"
