"""Each odd window has a stated outcome: never a crash, never a false alarm."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sluice.errors import ConfigError, DataError, DataFormatError, SluiceError
from sluice.monitoring import DriftSettings, column_drift, dataset_drift

RNG = np.random.default_rng(11)


def normal(n: int, loc: float = 0.0) -> pd.Series:
    return pd.Series(RNG.normal(loc, 1.0, n))


def test_empty_window_is_not_enough_data() -> None:
    result = column_drift(normal(100), pd.Series([], dtype=float), kind="numeric")
    assert not result.drifted
    assert result.method == "none"
    assert result.reason.startswith("not enough data: 0 rows, need at least 30")


def test_tiny_window_is_not_enough_data_with_the_minimum() -> None:
    settings = DriftSettings(min_rows=50)
    result = column_drift(normal(100), normal(12, loc=5.0), kind="numeric", settings=settings)
    assert not result.drifted
    assert "not enough data: 12 rows, need at least 50 (in the current window)" in result.reason


def test_constant_column_equal_on_both_sides_does_not_drift() -> None:
    result = column_drift(pd.Series([2.0] * 40), pd.Series([2.0] * 60), kind="numeric")
    assert not result.drifted
    assert result.reason.startswith("constant column (reference 2, current 2)")
    assert result.effect_size == 0.0
    assert result.psi == 0.0


def test_constant_column_that_moves_drifts_on_large_samples() -> None:
    result = column_drift(pd.Series([2.0] * 2000), pd.Series([3.0] * 2000), kind="numeric")
    assert result.drifted
    assert result.effect_size == float("inf")
    assert result.psi is not None and result.psi > 0.2


def test_all_null_column_is_reported_not_compared() -> None:
    result = column_drift(normal(100), pd.Series([np.nan] * 80), kind="numeric")
    assert not result.drifted
    assert result.method == "none"
    assert "all-null column in the current window" in result.reason
    assert result.missing_current == 1.0
    assert result.missing_shift == 1.0


def test_missing_share_is_reported_on_its_own() -> None:
    current = pd.concat([normal(100), pd.Series([None] * 100, dtype=float)])
    result = column_drift(normal(200), current, kind="numeric")
    assert result.missing_reference == 0.0
    assert result.missing_current == 0.5
    assert result.n_current == 100
    assert result.to_dict()["missing_shift"] == 0.5


def test_infinite_values_are_excluded_and_counted() -> None:
    values = normal(100)
    current = pd.concat([values, pd.Series([np.inf, -np.inf, np.inf])])
    result = column_drift(values, current, kind="numeric")
    assert result.infinite_current == 3
    assert result.n_current == 100
    assert not result.drifted


def test_infinite_values_alone_are_not_enough_data() -> None:
    current = pd.Series([np.inf] * 40)
    result = column_drift(normal(100), current, kind="numeric")
    assert "not enough data: 0 rows" in result.reason
    assert "after leaving out 40 infinite" in result.reason


def test_column_on_one_side_only_is_listed() -> None:
    reference = pd.DataFrame({"a": normal(100), "old": normal(100)})
    current = pd.DataFrame({"a": normal(100), "new": normal(100)})
    result = dataset_drift(reference, current)
    assert result.only_in_reference == ("old",)
    assert result.only_in_current == ("new",)
    assert [c.column for c in result.columns] == ["a"]
    assert not result.drifted


def test_datetime_columns_are_compared_as_timestamps() -> None:
    start = pd.Timestamp("2024-01-01")
    reference = pd.Series(start + pd.to_timedelta(RNG.integers(0, 86400, 200), unit="s"))
    later = pd.Series(reference + pd.Timedelta(days=30))
    same = column_drift(reference, reference.sample(frac=1.0, random_state=1), kind="numeric")
    moved = column_drift(reference, later, kind="numeric")
    assert not same.drifted
    assert moved.drifted
    aware = column_drift(
        reference.dt.tz_localize("UTC"), later.dt.tz_localize("UTC"), kind="numeric"
    )
    assert aware.statistic == moved.statistic


def test_dataset_infers_datetime_as_numeric() -> None:
    frame = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=100, freq="h")})
    result = dataset_drift(frame, frame)
    assert result.column("t").kind == "numeric"
    assert not result.drifted


def test_new_categories_are_listed_by_name() -> None:
    reference = pd.Series(["a", "b"] * 50)
    current = pd.Series(["a", "b"] * 45 + ["zebra"] * 5 + ["yak"] * 5)
    result = column_drift(reference, current, kind="categorical")
    assert result.new_categories == ("yak", "zebra")


def test_high_cardinality_is_folded_into_top_k_and_other() -> None:
    reference = pd.Series([f"c{i % 500}" for i in range(5000)])
    current = pd.Series([f"c{(i * 7) % 500}" for i in range(5000)])
    result = column_drift(reference, current, kind="categorical", settings=DriftSettings(top_k=5))
    assert result.method == "jensen_shannon"
    assert not result.drifted
    assert result.new_categories == ()


def test_all_windows_with_no_comparable_column_do_not_drift() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    result = dataset_drift(frame, frame)
    assert not result.drifted
    assert result.share_drifted == 0.0


def test_unknown_kind_and_unknown_column_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'numeric'"):
        column_drift(normal(50), normal(50), kind="numerc")
    frame = pd.DataFrame({"temp": normal(50)})
    with pytest.raises(ConfigError, match="Did you mean 'temp'"):
        dataset_drift(frame, frame, kinds={"tmp": "numeric"})


def test_text_marked_numeric_is_a_data_error() -> None:
    with pytest.raises(DataError, match="kind='categorical'"):
        column_drift(pd.Series(["warm"] * 40), pd.Series(["cold"] * 40), kind="numeric")


def test_duplicate_column_names_are_refused() -> None:
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataFormatError, match="repeats"):
        dataset_drift(frame, frame)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(SluiceError, match="p_value"):
        DriftSettings(p_value=0.0)
    with pytest.raises(ConfigError, match="min_rows"):
        DriftSettings(min_rows=0)
