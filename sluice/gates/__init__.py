"""Gates: declared checks a candidate must pass to be registered, and their stored verdicts."""

from sluice.gates.evaluate import check_gates, evaluate_gates, raise_if_failed
from sluice.gates.results import GateContext, GateResult
from sluice.gates.spec import (
    BeatsBaselineGate,
    GateSpec,
    MaxLatencyGate,
    MaxModelSizeGate,
    MetricGate,
    NoRegressionGate,
    ValidationGate,
    parse_gates,
)
from sluice.gates.storage import gate_results_for, link_gate_results, save_gate_results

__all__ = [
    "BeatsBaselineGate",
    "GateContext",
    "GateResult",
    "GateSpec",
    "MaxLatencyGate",
    "MaxModelSizeGate",
    "MetricGate",
    "NoRegressionGate",
    "ValidationGate",
    "check_gates",
    "evaluate_gates",
    "gate_results_for",
    "link_gate_results",
    "parse_gates",
    "raise_if_failed",
    "save_gate_results",
]
