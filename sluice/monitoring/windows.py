"""Turning a pandas Series into clean values plus counts of what was left out.

Missing and infinite values never reach a statistic, but they are counted here
so that the result can report them: nothing is dropped silently.

A numeric window holds its finite values sorted once, because every numeric
statistic (KS, Wasserstein, quantile bins) can be read off sorted arrays. A
categorical window holds each category once with its count, because every
categorical statistic needs counts only; on a million rows that is a handful of
names instead of a million strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sluice.errors import DataError

KINDS = ("numeric", "categorical")


@dataclass(frozen=True)
class Window:
    """The values of one side, with what was excluded from them.

    ``values`` holds the finite values sorted ascending (numeric), or the
    distinct category names as strings (categorical), each counted in ``counts``.
    """

    values: np.ndarray[Any, Any]
    rows: int
    missing: int
    infinite: int = 0
    counts: np.ndarray[Any, np.dtype[np.int64]] | None = None

    @property
    def n(self) -> int:
        return len(self.values) if self.counts is None else int(self.counts.sum())

    @property
    def missing_share(self) -> float:
        return self.missing / self.rows if self.rows else 0.0


def infer_kind(series: pd.Series) -> str:
    """Numbers and datetimes are numeric; booleans, strings and the rest categorical."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return "categorical"
    numeric = pd.api.types.is_numeric_dtype(series.dtype)
    return (
        "numeric"
        if numeric or pd.api.types.is_datetime64_any_dtype(series.dtype)
        else "categorical"
    )


def make_window(series: pd.Series, kind: str, column: str) -> Window:
    if kind == "numeric":
        return _numeric_window(series, column)
    return _categorical_window(series)


def _categorical_window(series: pd.Series) -> Window:
    """Counts per category name, categories compared by their text.

    Counting the raw values first and turning only the distinct ones into text
    gives the same names as converting every row, at a fraction of the cost;
    values whose text coincides (1 and "1" in an object column) are merged.
    """
    try:
        counts = series.value_counts(dropna=True, sort=False)
    except TypeError:  # unhashable values (lists, dicts): count their text instead
        counts = series.dropna().astype(str).value_counts(sort=False)
    counts = counts[counts.to_numpy() > 0]  # a categorical dtype lists unused categories
    names = _names(pd.Index(counts.index))
    if not names.is_unique:
        counts = pd.Series(counts.to_numpy(), index=names).groupby(level=0, sort=False).sum()
        names = pd.Index(counts.index)
    observed = np.asarray(counts.to_numpy(), dtype=np.int64)
    values = np.asarray(names.to_numpy(dtype=object), dtype=object)
    return Window(values, len(series), len(series) - int(observed.sum()), counts=observed)


def _names(index: pd.Index) -> pd.Index:
    """Category names as text, a whole float named as the integer it is.

    A column of integer codes is read as floats wherever it holds a missing value
    (one Parquet file of several, one month of a year): code 3 must be "3" on
    both sides, not "3" in one window and "3.0" in the other.
    """
    if not pd.api.types.is_float_dtype(index.dtype):
        return index.astype(str)
    return pd.Index(
        [
            str(int(v)) if np.isfinite(v) and v == int(v) and abs(v) < 2**53 else str(v)
            for v in index
        ],
        dtype=object,
    )


def _numeric_window(series: pd.Series, column: str) -> Window:
    numbers = _as_floats(series, column)
    finite = np.isfinite(numbers)
    n_finite = int(np.count_nonzero(finite))
    if n_finite == len(numbers):
        return Window(np.sort(numbers), len(numbers), 0, 0)
    missing = int(np.count_nonzero(np.isnan(numbers)))
    values = numbers[finite]  # a copy, so sorting in place leaves the caller's data alone
    values.sort()
    return Window(values, len(numbers), missing, len(numbers) - n_finite - missing)


def _as_floats(series: pd.Series, column: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Floats, with datetimes as seconds since the epoch (UTC for aware ones)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        seconds = (series - pd.Timestamp(0)) / pd.Timedelta(seconds=1)
        return np.asarray(seconds.to_numpy(dtype=float, na_value=np.nan), dtype=np.float64)
    try:
        return np.asarray(series.to_numpy(dtype=float, na_value=np.nan), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        sample = series.dropna().iloc[:3]
        fix = "Fix the data, or compare"
        if _dates_as_text(sample):
            fix = (
                "They look like dates written as text: store the column as timestamps "
                "(pd.to_datetime before writing the file), or compare"
            )
        raise DataError(
            f"Column '{column}' must be numeric to be compared as numeric; got dtype "
            f"{series.dtype} with values such as {sample.tolist()!r}. {fix} the column as "
            "categories (kind='categorical' in Python, --categorical on the command line)."
        ) from exc


def _dates_as_text(sample: pd.Series) -> bool:
    """ISO dates or times held as strings, as a CSV read without date parsing leaves them."""
    if sample.empty or not all(isinstance(v, str) for v in sample):
        return False
    try:
        pd.to_datetime(sample, format="ISO8601")
    except (TypeError, ValueError):
        return False
    return True
