"""Cleaning and splitting frames before any model sees them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sluice.templates.tabular.prepare import clean_frame, split_frame

SCHEMA = {
    "columns": [
        {"name": "id", "role": "id"},
        {"name": "k", "role": "constant"},
        {"name": "x", "role": "feature"},
        {"name": "y", "role": "target"},
    ]
}


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "k": [0] * 6,
            "x": [1.0, 1.0, 2.0, 3.0, np.nan, 4.0],
            "y": [0, 0, 1, None, 1, 0],
            "extra": list("aabcde"),
        }
    )


def test_clean_drops_configured_id_constant_missing_target_and_duplicates() -> None:
    out, report = clean_frame(frame(), target="y", drop=["extra"], schema=SCHEMA)
    assert list(out.columns) == ["x", "y"]
    assert report["dropped_columns"] == ["extra", "id", "k"]
    assert report["missing_target_removed"] == 1
    assert report["duplicates_removed"] == 1  # (x=1, y=0) twice once id and extra are gone
    assert report["rows_out"] == len(out) == 4 and not out["y"].isna().any()


def test_clean_samples_reproducibly() -> None:
    big = pd.DataFrame({"x": range(1000), "y": [0, 1] * 500})
    a, ra = clean_frame(big, target="y", drop=[], schema={"columns": []}, sample=100, seed=3)
    b, _ = clean_frame(big, target="y", drop=[], schema={"columns": []}, sample=100, seed=3)
    assert len(a) == 100 and ra["sampled"] is True and a.equals(b)
    assert a["x"].is_monotonic_increasing  # original order kept


def test_time_split_holds_out_the_latest_rows() -> None:
    days = pd.date_range("2024-01-01", periods=10, freq="D")
    shuffled = pd.DataFrame({"t": days, "y": range(10)}).sample(frac=1, random_state=0)
    train, test, info = split_frame(
        shuffled, target="y", holdout=0.3, time_column="t", stratify=False
    )
    assert train["t"].max() < test["t"].min()
    assert len(test) == 3 and info["cut"] == "2024-01-08T00:00:00" and info["time_ordered"]


def test_random_split_is_stratified_for_classification() -> None:
    data = pd.DataFrame({"x": range(100), "y": ["a"] * 80 + ["b"] * 20})
    _, test, info = split_frame(
        data, target="y", holdout=0.25, time_column=None, stratify=True, seed=1
    )
    assert info == {"train_rows": 75, "holdout_rows": 25, "time_ordered": False, "cut": None}
    assert (test["y"] == "b").sum() == 5


def test_time_split_compares_mixed_offsets_as_instants() -> None:
    data = pd.DataFrame(
        {
            "t": [
                "2024-01-01T05:00:00+05:00",  # 00:00 UTC, the earliest
                "2024-01-01T01:30:00+00:00",  # 01:30 UTC, the latest
                "2024-01-01T02:00:00+01:00",  # 01:00 UTC
                "2024-01-01T00:30:00+00:00",  # 00:30 UTC
            ],
            "y": [0, 3, 2, 1],
        }
    )
    train, test, info = split_frame(data, target="y", holdout=0.25, time_column="t", stratify=False)
    assert list(train["y"]) == [0, 1, 2] and list(test["y"]) == [3]
    assert info["cut"] == "2024-01-01T01:30:00+00:00"


def test_time_split_keeps_a_column_named_like_its_helper() -> None:
    days = pd.date_range("2024-01-01", periods=4, freq="D")
    data = pd.DataFrame({"t": days[::-1], "_order": ["d", "c", "b", "a"], "y": [3, 2, 1, 0]})
    train, test, info = split_frame(data, target="y", holdout=0.25, time_column="t", stratify=False)
    assert list(train.columns) == ["t", "_order", "y"]
    assert list(train["_order"]) == ["a", "b", "c"] and list(test["_order"]) == ["d"]
    assert info["cut"] == "2024-01-04T00:00:00"
