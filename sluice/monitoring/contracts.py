"""What a drift statistic must provide, and the checks any implementation must pass.

A statistic maps a reference and a current array to a non-negative float that is
zero when nothing changed. For ``numeric`` statistics the arrays hold the finite
values of each window; for ``categorical`` ones they hold counts over the same
categories (reference's top-k plus "other"). Plugins pass ``check_drift_statistic``
just as the built-in ones do.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from sluice.monitoring import stats

DriftStatistic = Callable[[np.ndarray[Any, Any], np.ndarray[Any, Any]], float]


def _ks_statistic(reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any]) -> float:
    return stats.ks_test(reference, current)[0]


def _numeric_psi(reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any]) -> float:
    return stats.psi(*stats.quantile_bin_counts(reference, current, 10))


BUILTIN_STATISTICS: dict[str, tuple[str, DriftStatistic]] = {
    "ks": ("numeric", _ks_statistic),
    "wasserstein": ("numeric", stats.normalized_wasserstein),
    "psi_numeric": ("numeric", _numeric_psi),
    "chi_squared": ("categorical", lambda r, c: stats.chi_squared(r, c)[0]),
    "jensen_shannon": ("categorical", stats.jensen_shannon),
    "psi": ("categorical", stats.psi),
}


def check_drift_statistic(statistic: DriftStatistic, kind: str) -> None:
    """Raise AssertionError naming the first broken promise of ``statistic``.

    Checked: returns a float; zero on identical windows; never negative; grows
    when the current window moves further away; leaves its inputs untouched;
    raises no warning.
    """
    samples = _numeric_samples() if kind == "numeric" else _categorical_samples()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reference, near, far = samples
        same = _call(statistic, reference, reference.copy())
        assert abs(same) < 1e-9, f"identical windows must give 0; got {same!r}"
        small, large = _call(statistic, reference, near), _call(statistic, reference, far)
        assert small >= 0.0 and large >= 0.0, f"must be >= 0; got {small!r} and {large!r}"
        assert large > small, f"a larger shift must score higher; got {large!r} <= {small!r}"


def _call(
    statistic: DriftStatistic, reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any]
) -> float:
    before = (reference.copy(), current.copy())
    value = statistic(reference, current)
    assert isinstance(value, float), f"must return a float; got {type(value).__name__}"
    assert np.array_equal(reference, before[0]) and np.array_equal(current, before[1]), (
        "must not modify its inputs"
    )
    return value


def _numeric_samples() -> tuple[np.ndarray[Any, Any], ...]:
    rng = np.random.default_rng(0)
    reference = rng.normal(0.0, 1.0, 500)
    return reference, reference + 0.2, reference + 2.0


def _categorical_samples() -> tuple[np.ndarray[Any, Any], ...]:
    reference = np.array([40.0, 30.0, 20.0, 10.0])
    return reference, np.array([35.0, 30.0, 22.0, 13.0]), np.array([10.0, 20.0, 30.0, 40.0])
