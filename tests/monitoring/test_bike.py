"""Verdicts on real data: a year of growth, a change of month, and no change at all."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sluice.monitoring import dataset_drift

WEATHER = ["weathersit", "temp", "atemp", "hum", "windspeed"]


def test_2011_against_2012_shows_drift_in_demand_and_year(bike: pd.DataFrame) -> None:
    result = dataset_drift(bike[bike.yr == 0], bike[bike.yr == 1])
    for name in ("cnt", "registered", "casual", "yr"):
        column = result.column(name)
        assert column.drifted, column.reason
        assert column.method == "wasserstein"
        assert "both windows are large" in column.reason
    assert "reference is constant" in result.column("yr").reason
    assert not result.column("hr").drifted
    assert result.correction == "benjamini-hochberg"


def test_january_against_february_weather_is_judged_by_tests(bike: pd.DataFrame) -> None:
    month = bike.dteday.dt.to_period("M")
    january = bike.loc[month == "2011-01", WEATHER]
    february = bike.loc[month == "2011-02", WEATHER]
    result = dataset_drift(january, february, kinds={"weathersit": "categorical"})
    assert result.column("weathersit").method == "chi_squared"
    for name in ("temp", "atemp"):
        column = result.column(name)
        assert column.method == "ks"
        assert column.drifted, column.reason
        assert column.p_value_corrected is not None
        assert column.p_value_corrected >= (column.p_value or 0.0)
        assert "corrected p-value" in column.reason
    assert result.drifted


def test_random_halves_of_one_sample_show_no_drift(bike: pd.DataFrame) -> None:
    order = np.random.default_rng(7).permutation(len(bike))
    half = len(bike) // 2
    result = dataset_drift(bike.iloc[order[:half]], bike.iloc[order[half:]])
    assert not result.drifted
    assert result.drifted_columns == ()
    assert len(result.columns) == bike.shape[1]


def test_random_halves_of_a_small_sample_show_no_drift(bike: pd.DataFrame) -> None:
    sample = bike.sample(400, random_state=3)
    result = dataset_drift(sample.iloc[:200], sample.iloc[200:])
    assert not result.drifted
    assert {c.method for c in result.columns} <= {"ks", "chi_squared"}
