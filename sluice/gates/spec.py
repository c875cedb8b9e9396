"""Gate definitions as written in sluice.yaml's ``gates:`` list, checked when they are read.

::

    gates:
      - {kind: metric, metric: rmse, max: 120}
      - {kind: beats_baseline, metric: rmse, margin: 0.2}        # 20 % better than the dummy
      - {kind: no_regression, metric: rmse, tolerance: 0.05}     # at most 5 % worse than champion
      - {kind: validation}
      - {kind: max_model_size, max_mb: 50}
      - {kind: max_latency, max_ms_per_row: 2.0}

Settings only: evaluation lives in :mod:`sluice.gates.evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from sluice.errors import GateError, did_you_mean


class _Gate(BaseModel):
    # NaN compares False both ways, so a NaN bound would let every value pass
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str | None = Field(default=None, min_length=1, max_length=200)

    @property
    def label(self) -> str:
        """The gate's name in results: the given ``name``, else a readable default."""
        return self.name or self._default_label()

    def _default_label(self) -> str:
        return str(getattr(self, "kind", "gate"))


class MetricGate(_Gate):
    """A holdout metric within bounds: ``min`` and/or ``max``."""

    kind: Literal["metric"]
    metric: str
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> MetricGate:
        if self.min is None and self.max is None:
            raise ValueError("a metric gate needs 'min' or 'max' (or both)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is above 'max' ({self.max})")
        return self

    def _default_label(self) -> str:
        parts = [f"{self.metric} >= {self.min:g}" if self.min is not None else ""]
        parts.append(f"{self.metric} <= {self.max:g}" if self.max is not None else "")
        return " and ".join(p for p in parts if p)


class BeatsBaselineGate(_Gate):
    """Better than the dummy baseline by ``margin`` (relative unless ``absolute``)."""

    kind: Literal["beats_baseline"]
    metric: str
    margin: float = Field(default=0.0, ge=0)
    absolute: bool = False

    def _default_label(self) -> str:
        return f"beats baseline on {self.metric}"


class NoRegressionGate(_Gate):
    """No worse than the current champion on the same holdout, beyond ``tolerance``."""

    kind: Literal["no_regression"]
    metric: str
    tolerance: float = Field(default=0.0, ge=0)
    relative: bool = True

    def _default_label(self) -> str:
        return f"no regression on {self.metric}"


class ValidationGate(_Gate):
    """The dataset's validation report holds at most ``max_errors`` errors (0 by default)."""

    kind: Literal["validation"]
    max_errors: int = Field(default=0, ge=0)

    def _default_label(self) -> str:
        return "validation"


class MaxModelSizeGate(_Gate):
    """The saved model is at most ``max_mb`` megabytes (10^6 bytes)."""

    kind: Literal["max_model_size"]
    max_mb: float = Field(gt=0)

    def _default_label(self) -> str:
        return f"model size <= {self.max_mb:g} MB"


class MaxLatencyGate(_Gate):
    """Predicting takes at most ``max_ms_per_row`` milliseconds per row."""

    kind: Literal["max_latency"]
    max_ms_per_row: float = Field(gt=0)

    def _default_label(self) -> str:
        return f"latency <= {self.max_ms_per_row:g} ms/row"


GateSpec = Annotated[
    MetricGate
    | BeatsBaselineGate
    | NoRegressionGate
    | ValidationGate
    | MaxModelSizeGate
    | MaxLatencyGate,
    Field(discriminator="kind"),
]
METRIC_GATES = (MetricGate, BeatsBaselineGate, NoRegressionGate)
ALL_GATES = (*METRIC_GATES, ValidationGate, MaxModelSizeGate, MaxLatencyGate)
KINDS = ("metric", "beats_baseline", "no_regression", "validation", "max_model_size", "max_latency")
_ADAPTER: TypeAdapter[GateSpec] = TypeAdapter(GateSpec)


def parse_gates(raw: Iterable[Mapping[str, Any] | Any]) -> list[GateSpec]:
    """Gate specs from plain mappings (sluice.yaml); GateError naming the entry and the problem."""
    specs = []
    for index, entry in enumerate(raw, start=1):
        if isinstance(entry, ALL_GATES):
            specs.append(entry)
            continue
        specs.append(parse_gate(entry, index))
    _check_unique(specs)
    return specs


def parse_gate(entry: Any, index: int = 1) -> GateSpec:
    if not isinstance(entry, Mapping):
        raise GateError(
            f"Gate #{index} must be a mapping like {{kind: metric, metric: rmse, max: 120}}; "
            f"got {entry!r}. Fix the gates: list in sluice.yaml."
        )
    kind = entry.get("kind")
    if kind not in KINDS:
        raise GateError(
            f"Gate #{index} must have a kind among {', '.join(KINDS)}; got {kind!r}."
            f"{did_you_mean(str(kind), KINDS)} Fix the gates: list in sluice.yaml."
        )
    try:
        return _ADAPTER.validate_python(dict(entry))
    except ValidationError as exc:
        raise GateError(_explain(exc, index, str(kind))) from exc


def _explain(exc: ValidationError, index: int, kind: str) -> str:
    # An unknown key is most often a misspelt required one: name it first, with a hint.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    error = errors[0]
    loc = [str(p) for p in error["loc"] if str(p) != kind]
    field = loc[-1] if loc else ""
    if error["type"] == "extra_forbidden":
        allowed = [f for f in _fields(kind) if f != "kind"]
        return (
            f"Gate #{index} ({kind}) has an unknown key {field!r}; expected keys: "
            f"{', '.join(allowed)}.{did_you_mean(field, allowed)} "
            "Fix the gates: list in sluice.yaml."
        )
    where = f" key {field!r}" if field else ""
    return (
        f"Gate #{index} ({kind}){where} is invalid: {error['msg']}; "
        f"got {error.get('input')!r}. Fix the gates: list in sluice.yaml."
    )


def _fields(kind: str) -> list[str]:
    for cls in ALL_GATES:
        if cls.model_fields["kind"].annotation == Literal[kind]:  # type: ignore[valid-type]
            return list(cls.model_fields)
    return []


def _check_unique(specs: list[GateSpec]) -> None:
    seen: set[str] = set()
    for spec in specs:
        if spec.label in seen:
            raise GateError(
                f"Each gate needs a distinct name; two gates are called {spec.label!r}. "
                "Give one of them a 'name:' in sluice.yaml."
            )
        seen.add(spec.label)
