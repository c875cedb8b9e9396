"""What gates read (GateContext) and what they say (GateResult): plain, typed values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class GateContext:
    """Everything measured about a candidate that a gate may check.

    Metrics are holdout metrics; the champion's are computed on the same holdout
    rows as the candidate's (None when the model has no champion yet).
    """

    task: str
    metrics: Mapping[str, float]
    baseline_metrics: Mapping[str, float] = field(default_factory=dict)
    champion_metrics: Mapping[str, float] | None = None
    champion_version: int | None = None
    validation_errors: int | None = None
    model_size_bytes: int | None = None
    latency_ms_per_row: float | None = None


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict: what it observed, against which threshold, and why it passed or not."""

    gate: str
    kind: str
    passed: bool
    observed: float | None
    threshold: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateResult:
        return cls(
            gate=data["gate"],
            kind=data["kind"],
            passed=bool(data["passed"]),
            observed=data.get("observed"),
            threshold=data.get("threshold"),
            reason=data["reason"],
        )
