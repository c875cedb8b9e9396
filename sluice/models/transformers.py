"""sluice's own scikit-learn transformers: plain attributes only, so skops can load them.

Each one turns one kind of raw column into numbers (or clean strings) that the
standard scikit-learn steps understand. They live in one module because the
persistence allow-list trusts exactly this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

MISSING = "__missing__"
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


def _names(X: Any) -> list[str]:
    """Column names of X, or '0', '1', ... for an array."""
    if isinstance(X, pd.DataFrame):
        return [str(c) for c in X.columns]
    return [str(i) for i in range(np.shape(X)[1])]


def _frame(X: Any, columns: list[str]) -> pd.DataFrame:
    """X as a DataFrame with the fitted column names (ColumnTransformer may pass arrays)."""
    if isinstance(X, pd.DataFrame):
        return X
    return pd.DataFrame(np.asarray(X, dtype=object), columns=columns)


class DatetimeFeatures(TransformerMixin, BaseEstimator):
    """Calendar features from datetime columns: the parts a model can learn seasons from.

    year, month, day, day of week, day of year, a weekend flag, and the hour when
    any fitted value has a time of day. Unparseable values become NaN (imputed later).
    """

    def fit(self, X: Any, y: Any = None) -> DatetimeFeatures:
        frame = _frame(X, _names(X))
        self.columns_ = [str(c) for c in frame.columns]
        self.with_hour_ = {}
        for name in frame.columns:
            stamps = _to_datetime(frame[name])
            has_time = bool((stamps.dt.hour.fillna(0) != 0).any())
            self.with_hour_[str(name)] = has_time
        self.n_features_in_ = len(self.columns_)
        return self

    def transform(self, X: Any) -> np.ndarray:
        frame = _frame(X, self.columns_)
        parts: list[np.ndarray] = []
        for name in self.columns_:
            stamps = _to_datetime(frame[name])
            parts.extend(self._parts(stamps, self.with_hour_[name]))
        return np.column_stack(parts) if parts else np.empty((len(frame), 0))

    @staticmethod
    def _parts(stamps: pd.Series, with_hour: bool) -> list[np.ndarray]:
        dt = stamps.dt
        values = [dt.year, dt.month, dt.day, dt.day_of_week, dt.day_of_year]
        if with_hour:
            values.append(dt.hour)
        weekend = (dt.day_of_week >= 5).astype(float).where(stamps.notna())
        values.append(weekend)
        return [v.astype("float64").to_numpy(na_value=np.nan) for v in values]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names: list[str] = []
        for col in self.columns_:
            parts = ["year", "month", "day", "dayofweek", "dayofyear"]
            parts += ["hour"] if self.with_hour_[col] else []
            names += [f"{col}__{p}" for p in [*parts, "weekend"]]
        return np.asarray(names, dtype=object)


def _to_datetime(values: pd.Series) -> pd.Series:
    """Datetimes from datetime or text values; what does not parse becomes NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    try:
        return pd.to_datetime(values, errors="coerce", format="mixed")
    except ValueError:  # offsets differ between values: one time line, in UTC
        return pd.to_datetime(values, errors="coerce", format="mixed", utc=True)


class BooleanToFloat(TransformerMixin, BaseEstimator):
    """True/False (also 'yes'/'no', 1/0 as text) to 1.0/0.0; missing stays NaN."""

    def fit(self, X: Any, y: Any = None) -> BooleanToFloat:
        frame = _frame(X, _names(X))
        self.columns_ = [str(c) for c in frame.columns]
        self.n_features_in_ = len(self.columns_)
        return self

    def transform(self, X: Any) -> np.ndarray:
        frame = _frame(X, self.columns_)
        return np.column_stack([_as_float_bool(frame[c]) for c in frame.columns])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(self.columns_, dtype=object)


def _as_float_bool(values: pd.Series) -> np.ndarray:
    text = values.astype("string").str.strip().str.lower()
    out = np.full(len(values), np.nan)
    out[text.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = 1.0
    out[text.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = 0.0
    return out


class CategoryStrings(TransformerMixin, BaseEstimator):
    """Categorical values as plain strings, missing ones as one '__missing__' category.

    One-hot encoding needs one value type per column; data read from files mixes
    ints, strings and missing markers.
    """

    def fit(self, X: Any, y: Any = None) -> CategoryStrings:
        frame = _frame(X, _names(X))
        self.columns_ = [str(c) for c in frame.columns]
        self.n_features_in_ = len(self.columns_)
        return self

    def transform(self, X: Any) -> np.ndarray:
        frame = _frame(X, self.columns_)
        cols = [_as_strings(frame[c]) for c in frame.columns]
        return np.column_stack(cols) if cols else np.empty((len(frame), 0), dtype=object)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(self.columns_, dtype=object)


def _as_strings(values: pd.Series) -> np.ndarray:
    """Text of each value; 1, 1.0 and '1' give the same category; missing is one category."""
    missing = values.isna().to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(numbers) & (numbers == np.round(numbers))
        text = numbers.astype(str).astype(object)
        text[whole] = numbers[whole].astype(np.int64).astype(str)
    elif values.dtype == object:  # mixed values: 1 and 1.0 must meet
        text = values.map(_canonical_text).to_numpy(dtype=object)
    else:
        text = values.astype(object).to_numpy(dtype=object).astype(str).astype(object)
    text[missing] = MISSING
    return text


def _canonical_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
