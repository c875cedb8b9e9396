"""Profiles: statistics that agree with pandas, JSON-safe on odd frames."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from sluice.data import profile_frame
from sluice.errors import DataFormatError


def test_bike_profile_agrees_with_pandas(bike_frame: pd.DataFrame) -> None:
    profile = profile_frame(bike_frame)
    assert profile["n_rows"] == 17379 and profile["n_cols"] == 17
    temp = profile["columns"]["temp"]
    assert temp["kind"] == "numeric"
    assert temp["mean"] == pytest.approx(bike_frame["temp"].mean())
    assert temp["std"] == pytest.approx(bike_frame["temp"].std())
    assert temp["min"] == bike_frame["temp"].min() and temp["max"] == bike_frame["temp"].max()
    assert temp["n_unique"] == bike_frame["temp"].nunique()
    for key, q in (("p05", 0.05), ("p50", 0.5), ("p99", 0.99)):
        assert temp["quantiles"][key] == pytest.approx(bike_frame["temp"].quantile(q))
    day = profile["columns"]["dteday"]
    assert (day["kind"], day["min"], day["max"]) == (
        "datetime",
        "2011-01-01T00:00:00",
        "2012-12-31T00:00:00",
    )


def test_categorical_top_values_and_missing() -> None:
    frame = pd.DataFrame({"city": ["Lyon", "Paris", "Paris", None, "Nice", "Paris", "Lyon", None]})
    stats = profile_frame(frame)["columns"]["city"]
    assert stats["kind"] == "categorical"
    assert stats["n_missing"] == 2 and stats["missing_share"] == 0.25
    assert stats["n_unique"] == 3
    assert stats["top"] == [["Paris", 3], ["Lyon", 2], ["Nice", 1]]


def test_booleans_nan_and_infinity() -> None:
    frame = pd.DataFrame({"b": [True, False, True, None], "x": [1.0, np.nan, np.inf, -np.inf]})
    columns = profile_frame(frame)["columns"]
    assert columns["b"]["kind"] == "boolean" and columns["b"]["top"] == [[True, 2], [False, 1]]
    x = columns["x"]
    assert x["n_missing"] == 1 and x["n_infinite"] == 2
    assert x["min"] == 1.0 and x["max"] == 1.0 and x["std"] is None


def test_pandas_categorical_nullable_int_and_timezone() -> None:
    frame = pd.DataFrame(
        {
            "cat": pd.Categorical(["a", "b", "a"]),
            "n": pd.array([1, None, 3], dtype="Int64"),
            "t": pd.DatetimeIndex(["2024-01-01", "2024-06-01", None]).tz_localize("Europe/Paris"),
        }
    )
    columns = profile_frame(frame)["columns"]
    assert columns["cat"]["top"] == [["a", 2], ["b", 1]]
    assert columns["n"]["integer"] and columns["n"]["mean"] == 2.0
    assert columns["t"]["min"] == "2024-01-01T00:00:00+01:00"


def test_duplicate_names_in_a_frame_are_refused() -> None:
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataFormatError, match=r"these appear more than once: 'a'\. Rename them"):
        profile_frame(frame)


def test_profile_of_an_empty_frame() -> None:
    profile = profile_frame(pd.DataFrame({"a": pd.Series([], dtype=float)}))
    assert profile["n_rows"] == 0
    assert (
        profile["columns"]["a"]["n_unique"] == 0 and profile["columns"]["a"]["missing_share"] == 0.0
    )


frames = data_frames(
    columns=[
        column("f", dtype=float),
        column("i", elements=st.integers(-(2**63), 2**63 - 1)),
        column("s", elements=st.one_of(st.none(), st.text(max_size=4))),
        column("o", elements=st.one_of(st.none(), st.integers(), st.text(max_size=3), st.floats())),
    ],
    index=range_indexes(min_size=0, max_size=30),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking frames takes minutes
)
@given(frame=frames)
def test_profiles_of_odd_frames_are_strict_json_and_consistent(frame: pd.DataFrame) -> None:
    profile = profile_frame(frame)
    json.dumps(profile, allow_nan=False)  # no NaN or infinity anywhere
    assert profile["n_rows"] == len(frame)
    for stats in profile["columns"].values():
        assert 0 <= stats["n_missing"] <= len(frame)
        quantiles = [v for v in stats.get("quantiles", {}).values() if v is not None]
        assert quantiles == sorted(quantiles)
        if stats.get("min") is not None and stats["kind"] == "numeric":
            assert stats["min"] <= stats["max"]
            low, high = float(stats["min"]), float(stats["max"])  # quantiles are floats
            assert all(low <= q <= high for q in quantiles)
        if "top" in stats:
            assert sum(c for _, c in stats["top"]) <= len(frame) - stats["n_missing"]


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(
        st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=2, max_size=50
    )
)
def test_profile_is_deterministic_and_order_free_for_counts(values: list[float]) -> None:
    frame = pd.DataFrame({"x": values})
    first, again = profile_frame(frame), profile_frame(frame)
    assert first == again
    shuffled = profile_frame(frame.iloc[::-1].reset_index(drop=True))["columns"]["x"]
    for key in ("n_unique", "min", "max", "quantiles"):
        assert shuffled[key] == first["columns"]["x"][key]


def test_high_cardinality_text_is_estimated_and_unique_text_counted_exactly() -> None:
    rng = np.random.default_rng(1)
    n = 300_000
    codes = rng.integers(0, 100_000, n)
    frame = pd.DataFrame({"customer": [f"C{c}" for c in codes], "ref": [f"R{i}" for i in range(n)]})
    columns = profile_frame(frame)["columns"]
    customer, ref = columns["customer"], columns["ref"]
    truth = len(np.unique(codes))
    assert customer["kind"] == "text" and customer["n_unique_estimated"] is True
    assert abs(customer["n_unique"] - truth) / truth < 0.2
    assert "top" not in customer
    assert ref["kind"] == "text" and ref["n_unique"] == n and ref["n_unique_estimated"] is False

    from sluice.data import Role, schema_from_profile

    schema = schema_from_profile({"n_rows": n, "n_cols": 2, "columns": columns})
    assert schema.column("ref").role == Role.ID
    assert schema.column("customer").role == Role.FEATURE


def test_dictionary_encoded_parse_gives_the_same_profile(tmp_path: Path) -> None:
    from sluice.data.profile import profile_table
    from sluice.data.read import read_arrow

    rng = np.random.default_rng(3)
    n = 5_000
    frame = pd.DataFrame(
        {
            "city": rng.choice(np.array(["Paris", "Lyon", "Nice", None], dtype=object), n),
            "code": [f"K{i}" for i in rng.integers(0, 4_000, n)],
            "x": rng.normal(size=n),
        }
    )
    frame.to_csv(tmp_path / "f.csv", index=False)
    plain = read_arrow(tmp_path / "f.csv")
    encoded = read_arrow(tmp_path / "f.csv", dictionaries=True)
    assert str(encoded.schema.field("city").type).startswith("dictionary")
    assert profile_table(encoded) == profile_table(plain)


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.integers(-5, 5), st.sampled_from([-0.0, 0.0, 0.5, 1e300, -1e300])),
        min_size=1,
        max_size=300,
    )
)
def test_counting_and_sorting_give_the_same_statistics(values: list[float]) -> None:
    from sluice.data.profile import _counted_stats, _few_distinct, _sorted_stats

    array = np.asarray(values, dtype=np.float64)
    distinct = _few_distinct(array)
    assert distinct is not None
    counted, ordered = _counted_stats(*distinct), _sorted_stats(np.sort(array))
    for key in ("n_unique", "min", "max"):
        assert counted[key] == ordered[key], key
    for name, value in ordered["quantiles"].items():  # interpolation may round differently
        assert math.isclose(counted["quantiles"][name], value, rel_tol=1e-12, abs_tol=1e-12)
    for key in ("mean", "std"):
        a, b = counted[key], ordered[key]
        assert (a is None and b is None) or (
            a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        ), key


def test_lists_and_bytes_are_profiled_as_text_forms() -> None:
    frame = pd.DataFrame({"l": [[1, 2], [3], None], "b": [b"x", b"y", None]})
    columns = profile_frame(frame)["columns"]
    assert columns["l"]["top"] == [["[1, 2]", 1], ["[3]", 1]]
    assert columns["b"]["n_missing"] == 1 and columns["b"]["n_unique"] == 2


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(-(2**53), 2**53).map(float),
        ),
        min_size=1,
        max_size=200,
    )
)
def test_quantiles_read_off_sorted_values_equal_numpys(values: list[float]) -> None:
    from sluice.data.profile import QUANTILES, _sorted_quantiles

    ordered = np.sort(np.asarray(values, dtype=np.float64))
    with np.errstate(all="ignore"):
        expected = np.clip(
            np.quantile(ordered, QUANTILES, method="linear"), ordered[0], ordered[-1]
        )
        got = _sorted_quantiles(ordered)
    np.testing.assert_array_equal(got, expected)


def test_an_all_empty_column_counts_zero_distinct_values() -> None:
    profile = profile_frame(pd.DataFrame({"empty": [None, None, None], "x": [1, 2, 3]}))
    stats = profile["columns"]["empty"]
    assert stats["dtype"] == "null" and stats["missing_share"] == 1.0
    assert stats["n_unique"] == 0  # as for an all-NaN number column, not absent
