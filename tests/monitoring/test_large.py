"""Sorting each window once gives SciPy's figures, on large and awkward data alike.

The numeric statistics are read off sorted arrays instead of calling SciPy's
functions, and categories are counted before they are turned into text; these
tests hold both shortcuts to the plain computation they replace.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from sluice.monitoring import column_drift, dataset_drift, stats

RNG = np.random.default_rng(2026)


def _samples() -> list[tuple[str, np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
    """Pairs of windows: continuous, heavily tied, unequal sizes, far apart, tiny."""
    return [
        ("normal", RNG.normal(0, 1, 20_000), RNG.normal(0.1, 1.2, 15_000)),
        ("equal sizes", RNG.lognormal(3, 1, 5_000), RNG.lognormal(3.2, 1, 5_000)),
        ("ties", RNG.integers(0, 12, 30_000).astype(float), RNG.integers(1, 14, 7_000) * 1.0),
        ("few values", RNG.choice([1.0, 2.0, 5.0], 3_000), RNG.choice([2.0, 5.0, 9.0], 4_001)),
        ("disjoint", RNG.uniform(0, 1, 500), RNG.uniform(5, 6, 800)),
        ("tiny", np.array([3.0, 1.0, 2.0]), np.array([2.5])),
        ("shared values", np.repeat([1.0, 2.0, 3.0], 50), np.repeat([1.0, 2.0, 3.0], [10, 80, 60])),
        # longer than one block of stats.CHUNK, with runs of ties across block edges
        ("long, ties", RNG.integers(0, 50, 140_000) * 1.0, RNG.integers(0, 52, 70_001) * 1.0),
        ("long", RNG.normal(0, 1, 2 * stats.CHUNK + 1), RNG.normal(0, 1.1, stats.CHUNK + 7)),
        ("lopsided", RNG.normal(0, 1, 40), RNG.normal(0.2, 1, 3 * stats.CHUNK)),
        (
            "runs longer than a block",
            np.repeat([1.0, 2.0, 5.0], [3 * stats.CHUNK, 10, stats.CHUNK + 3]),
            np.repeat([2.0, 5.0, 7.0], [stats.CHUNK, 2 * stats.CHUNK + 5, 40]),
        ),
    ]


@pytest.mark.parametrize(("name", "reference", "current"), _samples())
def test_ks_equals_scipy_to_the_bit(
    name: str, reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any]
) -> None:
    statistic, p_value = stats.ks_test(reference, current)
    expected = scipy_stats.ks_2samp(reference, current, method="asymp")
    assert statistic == float(expected.statistic), name
    assert p_value == pytest.approx(float(expected.pvalue), rel=1e-12, abs=1e-300), name


@pytest.mark.parametrize(("name", "reference", "current"), _samples())
def test_wasserstein_equals_scipy(
    name: str, reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any]
) -> None:
    expected = scipy_stats.wasserstein_distance(reference, current)
    assert stats.sorted_wasserstein(np.sort(reference), np.sort(current)) == pytest.approx(
        expected, rel=1e-9, abs=1e-12
    ), name
    assert stats.normalized_wasserstein(reference, current) == pytest.approx(
        expected / np.std(reference), rel=1e-9
    ), name


def _bins_row_by_row(
    reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any], bins: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The plain computation: put every value in its bin, then count."""
    edges = np.unique(np.quantile(reference, np.linspace(0.0, 1.0, bins + 1)[1:]))
    low = float(np.min(reference))

    def count(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        index = np.where(values < low, 0, 1 + np.searchsorted(edges, values, side="left"))
        return np.bincount(index, minlength=len(edges) + 2).astype(float)

    return count(reference), count(current)


@pytest.mark.parametrize(("name", "reference", "current"), _samples())
def test_quantile_bins_count_like_a_row_by_row_pass(
    name: str, reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any]
) -> None:
    for bins in (1, 4, 10):
        got = stats.quantile_bin_counts(reference, current, bins)
        expected = _bins_row_by_row(reference, current, bins)
        np.testing.assert_array_equal(got[0], expected[0], err_msg=name)
        np.testing.assert_array_equal(got[1], expected[1], err_msg=name)


def test_a_large_frame_matches_scipy_column_by_column() -> None:
    n = 200_000
    reference = pd.DataFrame(
        {
            "price": RNG.lognormal(3, 0.8, n),
            "count": RNG.poisson(4, n),
            "score": np.where(RNG.random(n) < 0.1, np.nan, RNG.normal(0, 1, n)),
            "plan": RNG.choice(["free", "basic", "pro"], n, p=[0.6, 0.3, 0.1]),
        }
    )
    current = pd.DataFrame(
        {
            "price": RNG.lognormal(3.3, 0.8, n - 1234),
            "count": RNG.poisson(4, n - 1234),
            "score": np.r_[RNG.normal(0, 1, n - 1240), [np.inf] * 6],
            "plan": RNG.choice(["free", "basic", "pro", "team"], n - 1234, p=[0.5, 0.3, 0.1, 0.1]),
        }
    )
    result = dataset_drift(reference, current)
    for name in ("price", "count", "score"):
        ref = reference[name].to_numpy(dtype=float)
        cur = current[name].to_numpy(dtype=float)
        ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
        column = result.column(name)
        ks = scipy_stats.ks_2samp(ref, cur, method="asymp")
        assert column.statistic == float(ks.statistic)
        assert column.p_value == pytest.approx(float(ks.pvalue), rel=1e-12, abs=1e-300)
        distance = scipy_stats.wasserstein_distance(ref, cur) / np.std(ref)
        assert column.effect_size == pytest.approx(distance, rel=1e-9)
        assert column.psi == pytest.approx(stats.psi(*_bins_row_by_row(ref, cur, 10)))
        assert (column.n_reference, column.n_current) == (len(ref), len(cur))
    assert result.column("score").infinite_current == 6
    assert result.column("score").missing_reference == pytest.approx(reference.score.isna().mean())
    plan = result.column("plan")
    table = pd.crosstab(
        np.r_[np.zeros(n), np.ones(n - 1234)], np.r_[reference.plan, current.plan]
    ).to_numpy()
    chi2 = scipy_stats.chi2_contingency(table, correction=False)
    assert plan.statistic == pytest.approx(chi2.statistic)
    assert plan.new_categories == ("team",)
    assert result.drifted_columns == ("price", "plan")


def test_drift_leaves_the_callers_data_untouched() -> None:
    values = RNG.normal(0, 1, 5_000)
    reference = pd.Series(values.copy())
    current = pd.Series(np.r_[values[::-1][:4_000], [np.nan, np.inf]])
    before = (reference.copy(), current.copy())
    column_drift(reference, current, kind="numeric")
    pd.testing.assert_series_equal(reference, before[0])
    pd.testing.assert_series_equal(current, before[1])


def _as_text(series: pd.Series) -> pd.Series:
    """The plain computation: every non-missing row turned into text first."""
    return series.dropna().astype(str)


@pytest.mark.parametrize(
    ("reference", "current"),
    [
        (pd.Series([1, 2, 2, 3] * 20), pd.Series([1, 2, 3, 3, 4] * 20)),
        (pd.Series([True, False, True] * 20), pd.Series([False] * 50 + [True] * 10)),
        (pd.Series([1.5, 2.0, None] * 20), pd.Series([2.0, 2.0, 7.25] * 20)),
        (pd.Series([1, "1", "a", None] * 20, dtype=object), pd.Series(["1", "a", "a"] * 20)),
        (
            pd.Series(pd.Categorical(["x", "y"] * 30, categories=["x", "y", "unused"])),
            pd.Series(pd.Categorical(["y", "z", None] * 20)),
        ),
        (pd.Series([[1], [2], None] * 20, dtype=object), pd.Series([[2], [3]] * 30, dtype=object)),
    ],
    ids=["integers", "booleans", "floats", "mixed object", "categorical dtype", "unhashable"],
)
def test_categories_are_counted_as_if_every_row_were_text(
    reference: pd.Series, current: pd.Series
) -> None:
    got = column_drift(reference, current, kind="categorical")
    expected = column_drift(_as_text(reference), _as_text(current), kind="categorical")
    for field in ("statistic", "p_value", "effect_size", "psi", "new_categories", "drifted"):
        assert getattr(got, field) == getattr(expected, field), field
    assert (got.n_reference, got.n_current) == (expected.n_reference, expected.n_current)
    assert got.missing_reference == reference.isna().mean()
    assert got.missing_current == current.isna().mean()


def test_integer_codes_read_as_floats_are_the_same_categories() -> None:
    reference = pd.Series([1, 2, 2, 3] * 20)  # codes as integers
    current = pd.Series([1.0, 2.0, 3.0, 3.0, np.nan] * 20)  # as floats, for the gaps
    got = column_drift(reference, current, kind="categorical")
    expected = column_drift(reference, current.dropna().astype(int), kind="categorical")
    assert got.new_categories == ()
    for field in ("statistic", "p_value", "effect_size", "psi", "drifted", "n_current"):
        assert getattr(got, field) == getattr(expected, field), field
