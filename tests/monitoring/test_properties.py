"""Properties that must hold for any data: no self-drift, symmetry, PSI >= 0."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sluice.monitoring import column_drift, dataset_drift, stats

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
maybe_odd = st.one_of(finite, st.just(float("nan")), st.just(float("inf")))
numbers = st.lists(finite, min_size=30, max_size=300)
letters = st.lists(st.sampled_from("abcd"), min_size=30, max_size=300)

# The first call imports SciPy lazily, which can take longer than any deadline.
relaxed = settings(deadline=None)


@relaxed
@given(st.lists(maybe_odd, min_size=0, max_size=300))
def test_a_numeric_column_never_drifts_from_itself(values: list[float]) -> None:
    series = pd.Series(values, dtype=float)
    result = column_drift(series, series, kind="numeric")
    assert not result.drifted
    assert result.missing_shift == 0.0


@relaxed
@given(letters)
def test_a_categorical_column_never_drifts_from_itself(values: list[str]) -> None:
    series = pd.Series(values)
    result = column_drift(series, series, kind="categorical")
    assert not result.drifted
    assert result.psi == 0.0


@relaxed
@given(numbers, numbers)
def test_ks_verdict_is_symmetric(a: list[float], b: list[float]) -> None:
    forward = column_drift(pd.Series(a), pd.Series(b), kind="numeric")
    backward = column_drift(pd.Series(b), pd.Series(a), kind="numeric")
    assert forward.statistic == backward.statistic
    assert np.isclose(forward.p_value or 0.0, backward.p_value or 0.0)
    assert forward.drifted == backward.drifted


@relaxed
@given(letters, letters)
def test_categorical_tests_are_symmetric_below_top_k(a: list[str], b: list[str]) -> None:
    forward = column_drift(pd.Series(a), pd.Series(b), kind="categorical")
    backward = column_drift(pd.Series(b), pd.Series(a), kind="categorical")
    assert np.isclose(forward.statistic or 0.0, backward.statistic or 0.0)
    assert np.isclose(forward.effect_size or 0.0, backward.effect_size or 0.0)
    assert forward.drifted == backward.drifted


@relaxed
@given(numbers, numbers)
def test_psi_is_never_negative(a: list[float], b: list[float]) -> None:
    ref, cur = stats.quantile_bin_counts(np.array(a), np.array(b), 10)
    assert stats.psi(ref, cur) >= 0.0
    result = column_drift(pd.Series(a), pd.Series(b), kind="numeric")
    assert result.psi is not None and result.psi >= 0.0


@settings(max_examples=25, deadline=None)
@given(numbers, letters)
def test_a_frame_never_drifts_from_itself(x: list[float], c: list[str]) -> None:
    n = min(len(x), len(c))
    frame = pd.DataFrame({"x": x[:n], "c": c[:n]})
    result = dataset_drift(frame, frame)
    assert not result.drifted
    assert result.share_drifted == 0.0
