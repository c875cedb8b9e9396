"""Reference-versus-current distributions of one column, small enough to store as JSON.

The drift report draws its charts from these numbers, so a stored result can be
rendered again later without the data: numeric columns as shares per shared bin,
categorical ones as shares of the most frequent categories plus ``(other)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

BINS = 20
TOP = 15
OTHER = "(other)"


def distribution(reference: pd.Series, current: pd.Series, kind: str) -> dict[str, Any]:
    """``kind``, ``edges`` or ``labels``, and the ``reference`` and ``current`` shares of the
    non-missing values."""
    if kind == "numeric":
        return _numeric(_finite(reference), _finite(current))
    return _categorical(reference.dropna().astype(str), current.dropna().astype(str))


def _finite(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        series = (series - pd.Timestamp(0)) / pd.Timedelta(seconds=1)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return values[np.isfinite(values)]


def _numeric(ref: np.ndarray, cur: np.ndarray) -> dict[str, Any]:
    both = np.concatenate([ref, cur])
    if not len(both):
        return {"kind": "numeric", "edges": [], "reference": [], "current": []}
    lo, hi = float(both.min()), float(both.max())
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, BINS + 1)
    return {
        "kind": "numeric",
        "edges": [float(e) for e in edges],
        "reference": _shares(np.histogram(ref, edges)[0]),
        "current": _shares(np.histogram(cur, edges)[0]),
    }


def _categorical(ref: pd.Series, cur: pd.Series) -> dict[str, Any]:
    counts = pd.concat([ref, cur]).value_counts()
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    top = [str(name) for name, _ in ordered[:TOP]]
    ref_counts, cur_counts = ref.value_counts(), cur.value_counts()
    ref_row = [float(ref_counts.get(c, 0)) for c in top]
    cur_row = [float(cur_counts.get(c, 0)) for c in top]
    labels = list(top)
    if len(ordered) > TOP:
        labels.append(OTHER)
        ref_row.append(float(len(ref) - sum(ref_row)))
        cur_row.append(float(len(cur) - sum(cur_row)))
    return {
        "kind": "categorical",
        "labels": labels,
        "reference": _shares(np.array(ref_row)),
        "current": _shares(np.array(cur_row)),
    }


def _shares(counts: np.ndarray) -> list[float]:
    total = float(np.sum(counts))
    return [float(c) / total if total else 0.0 for c in counts]
