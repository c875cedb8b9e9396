"""What a monitor counts as a problem: drift settings plus the alert thresholds.

Stored as JSON in ``monitors.settings``; ``from_dict`` refuses unknown keys with
the nearest valid one, so a typo cannot silently switch a check off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sluice.errors import ConfigError, did_you_mean
from sluice.monitoring.settings import DriftSettings

DATA_DRIFT = "data_drift"
PREDICTION_DRIFT = "prediction_drift"
MISSING_VALUES = "missing_values"
NEW_CATEGORIES = "new_categories"
PERFORMANCE_DECAY = "performance_decay"
ALERT_KINDS = (DATA_DRIFT, PREDICTION_DRIFT, MISSING_VALUES, NEW_CATEGORIES, PERFORMANCE_DECAY)


@dataclass(frozen=True)
class MonitorSettings:
    """Thresholds of one monitor.

    ``missing_shift``: a column alerts when its share of missing values grows by
    more than this (0.1 = ten percentage points). ``performance_tolerance``: the
    metric on labelled production rows may be worse than on the holdout by this
    fraction of the holdout value before it counts as decay. ``min_labels``: fewer
    labelled rows than this and performance is not judged. ``alert_on``: the kinds
    of finding that raise an alert (all by default).
    """

    drift: DriftSettings = field(default_factory=DriftSettings)
    missing_shift: float = 0.1
    performance_tolerance: float = 0.1
    metric: str | None = None
    min_labels: int = 30
    alert_on: tuple[str, ...] = ALERT_KINDS

    def __post_init__(self) -> None:
        if not 0.0 < self.missing_shift <= 1.0:
            raise ConfigError(
                f"Expected a missing-share threshold in (0, 1]; got {self.missing_shift!r}. "
                "Use for instance --missing-shift 0.1 (ten percentage points)."
            )
        if not self.performance_tolerance >= 0.0:
            raise ConfigError(
                f"Expected a non-negative performance tolerance; got "
                f"{self.performance_tolerance!r}. Use for instance --tolerance 0.1 (10 % worse)."
            )
        if self.min_labels < 1:
            raise ConfigError(f"Expected min_labels of at least 1; got {self.min_labels!r}.")
        for kind in self.alert_on:
            if kind not in ALERT_KINDS:
                raise ConfigError(
                    f"Expected alert kinds among {', '.join(ALERT_KINDS)}; got {kind!r}."
                    f"{did_you_mean(kind, ALERT_KINDS)}"
                )

    @property
    def min_rows(self) -> int:
        return self.drift.min_rows

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["alert_on"] = list(self.alert_on)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitorSettings:
        _check_keys(data, [f.name for f in fields(cls)], "monitor settings")
        values = dict(data)
        drift = dict(values.pop("drift", None) or {})
        _check_keys(drift, [f.name for f in fields(DriftSettings)], "drift settings")
        if "alert_on" in values:
            values["alert_on"] = tuple(values["alert_on"])
        return cls(drift=DriftSettings(**drift), **values)


def _check_keys(data: Mapping[str, Any], known: list[str], what: str) -> None:
    for key in data:
        if key not in known:
            raise ConfigError(
                f"Expected {what} among {', '.join(known)}; got {key!r}.{did_you_mean(key, known)}"
            )
