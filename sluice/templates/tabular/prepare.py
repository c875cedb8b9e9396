"""Cleaning and splitting: pure functions on frames, so each is easy to test and cache.

Cleaning removes what no model should learn from: configured columns, columns
the schema marks as ids or constants, exact duplicate rows and rows without a
target. Splitting keeps the future out of training when a time column is set:
the holdout is the latest share of rows, as it will be in production.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

UNUSABLE_ROLES = ("id", "constant", "ignored")


def clean_frame(
    frame: pd.DataFrame,
    *,
    target: str,
    drop: Sequence[str],
    schema: dict[str, Any],
    sample: int | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rows and columns a model may learn from, and a record of what was removed."""
    unusable = [
        c["name"]
        for c in schema.get("columns", [])
        if c.get("role") in UNUSABLE_ROLES and c["name"] != target
    ]
    dropped = list(dict.fromkeys([*drop, *unusable]))
    out = frame.drop(columns=[c for c in dropped if c in frame.columns])
    rows_in = len(out)
    missing_target = int(out[target].isna().sum())
    out = out[out[target].notna()]
    before_dupes = len(out)
    out = out.drop_duplicates()
    duplicates = before_dupes - len(out)
    if sample is not None and len(out) > sample:
        out = out.sample(n=sample, random_state=seed).sort_index()
    report = {
        "rows_in": rows_in,
        "rows_out": len(out),
        "dropped_columns": dropped,
        "duplicates_removed": duplicates,
        "missing_target_removed": missing_target,
        "sampled": sample is not None and rows_in - missing_target - duplicates > sample,
    }
    return out.reset_index(drop=True), report


def split_frame(
    frame: pd.DataFrame,
    *,
    target: str,
    holdout: float,
    time_column: str | None,
    stratify: bool,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Training rows and holdout rows: the latest rows by time, else a (stratified) random share."""
    if time_column:
        return _time_split(frame, holdout, time_column)
    from sklearn.model_selection import train_test_split

    labels = frame[target] if stratify and frame[target].value_counts().min() >= 2 else None
    train, test = train_test_split(frame, test_size=holdout, random_state=seed, stratify=labels)
    info = {"train_rows": len(train), "holdout_rows": len(test), "time_ordered": False, "cut": None}
    return train.reset_index(drop=True), test.reset_index(drop=True), info


def _time_split(
    frame: pd.DataFrame, holdout: float, time_column: str
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    import pandas as pd

    try:
        stamps = pd.to_datetime(frame[time_column], errors="coerce")
    except ValueError:  # offsets differ between rows: compare the instants in UTC
        stamps = pd.to_datetime(frame[time_column], errors="coerce", utc=True)
    # positions, not a helper column: the frame may have a column of any name
    order = stamps.reset_index(drop=True).sort_values(kind="stable").index.to_numpy()
    ordered = frame.iloc[order]
    cut = len(ordered) - max(1, round(len(ordered) * holdout))
    train = ordered.iloc[:cut].reset_index(drop=True)
    test = ordered.iloc[cut:].reset_index(drop=True)
    first = stamps.iloc[order[cut]]
    info = {
        "train_rows": len(train),
        "holdout_rows": len(test),
        "time_ordered": True,
        "cut": None if pd.isna(first) else first.isoformat(),
    }
    return train, test, info
