"""The statistics agree with SciPy, and the public surface is what we chose."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from scipy.spatial import distance

import sluice.monitoring
from sluice.monitoring import column_drift, stats

REFERENCE = np.array([0.1, 0.4, 0.4, 0.9, 1.3, 1.7, 2.2, 2.5, 3.0, 3.1] * 4)
CURRENT = np.array([0.5, 0.8, 1.1, 1.9, 2.4, 2.6, 3.3, 3.8, 4.1, 4.4] * 4)


def test_ks_and_wasserstein_match_scipy() -> None:
    result = column_drift(pd.Series(REFERENCE), pd.Series(CURRENT), kind="numeric")
    expected = scipy_stats.ks_2samp(REFERENCE, CURRENT, method="asymp")
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    wasserstein = scipy_stats.wasserstein_distance(REFERENCE, CURRENT)
    assert result.effect_size == pytest.approx(wasserstein / np.std(REFERENCE))


def test_ks_on_tied_samples_does_not_warn() -> None:
    statistic, p_value = stats.ks_test(np.zeros(30), np.r_[np.zeros(40), 1.0])
    expected = scipy_stats.ks_2samp(np.zeros(30), np.r_[np.zeros(40), 1.0], method="asymp")
    assert (statistic, p_value) == pytest.approx((expected.statistic, expected.pvalue))


def test_chi_squared_and_jensen_shannon_match_scipy() -> None:
    ref = np.array([40.0, 30.0, 30.0])
    cur = np.array([20.0, 50.0, 30.0])
    statistic, p_value = stats.chi_squared(ref, cur)
    expected = scipy_stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    assert (statistic, p_value) == pytest.approx((expected.statistic, expected.pvalue))
    assert stats.jensen_shannon(ref, cur) == pytest.approx(distance.jensenshannon(ref, cur, base=2))


def test_psi_matches_the_textbook_formula() -> None:
    ref = np.array([50.0, 30.0, 20.0])
    cur = np.array([30.0, 30.0, 40.0])
    r, c = ref / 100, cur / 100
    assert stats.psi(ref, cur) == pytest.approx(np.sum((c - r) * np.log(c / r)))


def test_psi_of_an_empty_bin_is_large_but_finite() -> None:
    value = stats.psi(np.array([100.0, 0.0]), np.array([50.0, 50.0]))
    assert 0.2 < value < np.inf


def test_chi_squared_with_one_category_is_no_difference() -> None:
    assert stats.chi_squared(np.array([10.0, 0.0]), np.array([7.0, 0.0])) == (0.0, 1.0)


def test_public_api_is_exactly_the_chosen_names() -> None:
    assert set(sluice.monitoring.__all__) == {
        "ColumnDrift",
        "DatasetDrift",
        "DriftSettings",
        "DriftStatistic",
        "check_drift_statistic",
        "column_drift",
        "dataset_drift",
        "dataset_drift_dask",
        # monitors
        "ALERT_KINDS",
        "Alert",
        "Monitor",
        "MonitorResult",
        "MonitorSettings",
        "RenderReport",
        "Retrain",
        "RunOutcome",
        "Status",
        "WindowSpec",
        "alerts_of",
        "create_monitor",
        "get_monitor",
        "latest_results",
        "list_monitors",
        "parse_window",
        "result_by_id",
        "run_monitor",
        "sign",
        "verify",
    }


def test_results_serialize_to_plain_data() -> None:
    frame = pd.DataFrame({"x": REFERENCE, "c": ["a", "b"] * 20})
    result = sluice.monitoring.dataset_drift(frame, frame.assign(x=CURRENT))
    data = result.to_dict()
    assert data["correction"] == "benjamini-hochberg"
    assert [c["column"] for c in data["columns"]] == ["x", "c"]
    assert data["columns"][1]["new_categories"] == []
