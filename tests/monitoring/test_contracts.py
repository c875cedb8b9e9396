"""Every built-in statistic passes the contract; broken ones are caught."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sluice.monitoring import check_drift_statistic
from sluice.monitoring.contracts import BUILTIN_STATISTICS


@pytest.mark.parametrize("name", sorted(BUILTIN_STATISTICS))
def test_builtin_statistics_pass_the_contract(name: str) -> None:
    kind, statistic = BUILTIN_STATISTICS[name]
    check_drift_statistic(statistic, kind)


def test_a_signed_statistic_is_caught() -> None:
    def mean_shift(reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any]) -> float:
        return float(np.mean(reference) - np.mean(current))

    with pytest.raises(AssertionError, match="must be >= 0"):
        check_drift_statistic(mean_shift, "numeric")


def test_a_statistic_that_mutates_its_input_is_caught() -> None:
    def sorts_in_place(reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any]) -> float:
        current.sort()
        return 0.0

    with pytest.raises(AssertionError, match="must not modify"):
        check_drift_statistic(sorts_in_place, "numeric")


def test_a_statistic_returning_numpy_scalars_is_caught() -> None:
    def numpy_scalar(reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any]) -> float:
        return np.float32(0.0)  # type: ignore[return-value]

    with pytest.raises(AssertionError, match="must return a float"):
        check_drift_statistic(numpy_scalar, "categorical")
