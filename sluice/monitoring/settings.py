"""Settings for drift detection, kept apart from the computation and its result."""

from __future__ import annotations

from dataclasses import dataclass

from sluice.errors import ConfigError


@dataclass(frozen=True)
class DriftSettings:
    """Thresholds and sizes that decide a drift verdict.

    ``large_sample`` is the window size above which (in both windows) the verdict
    rests on an effect size: with thousands of rows a test flags differences too
    small to matter.
    """

    p_value: float = 0.05
    wasserstein: float = 0.1
    psi: float = 0.2
    jensen_shannon: float = 0.1
    min_rows: int = 30
    large_sample: int = 1000
    top_k: int = 20
    psi_bins: int = 10
    dataset_share: float = 0.5

    def __post_init__(self) -> None:
        for name in ("p_value", "dataset_share"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ConfigError(f"DriftSettings.{name} must be in (0, 1]; got {value!r}.")
        for name in ("wasserstein", "psi", "jensen_shannon"):
            if not getattr(self, name) > 0.0:
                raise ConfigError(
                    f"DriftSettings.{name} must be a positive effect size; "
                    f"got {getattr(self, name)!r}."
                )
        for name in ("min_rows", "large_sample", "top_k", "psi_bins"):
            if getattr(self, name) < 1:
                raise ConfigError(
                    f"DriftSettings.{name} must be at least 1; got {getattr(self, name)!r}."
                )
