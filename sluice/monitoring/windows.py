"""Turning a pandas Series into clean values plus counts of what was left out.

Missing and infinite values never reach a statistic, but they are counted here
so that the result can report them: nothing is dropped silently.
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
    """The values of one side, with what was excluded from them."""

    values: np.ndarray[Any, Any]
    rows: int
    missing: int
    infinite: int = 0

    @property
    def n(self) -> int:
        return len(self.values)

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
    missing = series.isna().to_numpy()
    values = series[~missing].astype(str).to_numpy(dtype=object)
    return Window(values=values, rows=len(series), missing=int(missing.sum()))


def _numeric_window(series: pd.Series, column: str) -> Window:
    numbers = _as_floats(series, column)
    missing = np.isnan(numbers)
    infinite = np.isinf(numbers)
    values = numbers[~missing & ~infinite]
    return Window(values, len(numbers), int(missing.sum()), int(infinite.sum()))


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
        raise DataError(
            f"Column '{column}' must be numeric to be compared as numeric; got dtype "
            f"{series.dtype} with values such as {series.dropna().iloc[:3].tolist()!r}. "
            "Fix the data or pass kind='categorical' for this column."
        ) from exc
