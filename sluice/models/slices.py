"""Metrics per slice of each low-cardinality column, and the weakest slices named.

A model can be good on average and poor for one season or one customer group;
slicing the holdout by each column with few distinct values shows where.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sluice.models.metrics import Metric, Outcome, compute
from sluice.models.types import SchemaLike


@dataclass(frozen=True)
class SliceResult:
    column: str
    value: str
    rows: int
    score: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def slice_columns(X: Any, schema: SchemaLike | None, max_levels: int) -> list[str]:
    """Columns to slice by: categorical or boolean ones, and integer codes (like
    ``season``), with at most ``max_levels`` distinct values."""
    import pandas as pd

    usable = None
    if schema is not None:
        usable = {
            c.name for c in schema.columns if str(getattr(c.role, "value", c.role)) == "feature"
        }
    picked = []
    for name in X.columns:
        if usable is not None and name not in usable:
            continue
        values = X[name]
        levels = values.nunique(dropna=True)
        if not 2 <= levels <= max_levels:
            continue
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        whole = numeric and bool(np.all(np.mod(values.dropna().to_numpy(dtype=float), 1) == 0))
        if whole or not numeric:
            picked.append(name)
    return picked


def slice_metrics(X: Any, said: Outcome, metric: Metric, columns: list[str]) -> list[SliceResult]:
    """The metric on the rows of each value of each column (None where undefined)."""
    results = []
    for name in columns:
        values = X[name].astype(object).where(X[name].notna(), "(missing)").astype(str).to_numpy()
        for value in sorted(set(values)):
            mask = values == value
            part = Outcome(
                said.y_true[mask],
                said.y_pred[mask],
                None if said.proba is None else said.proba[mask],
                said.classes,
            )
            score = None if metric.not_applicable(part) else compute(part, metric)
            if score is not None and not np.isfinite(score):  # e.g. R² of a single row
                score = None
            results.append(SliceResult(str(name), value, int(mask.sum()), score))
    return results


def weakest(
    slices: list[SliceResult], metric: Metric, overall: float, *, min_rows: int, k: int = 3
) -> list[str]:
    """The ``k`` worst slices with at least ``min_rows`` rows, worse than overall, in words."""
    scored = [s for s in slices if s.score is not None and s.rows >= min_rows]
    worse = [s for s in scored if metric.is_better(overall, s.score)]  # type: ignore[arg-type]
    worse.sort(key=lambda s: metric.signed(s.score))  # type: ignore[arg-type]
    return [
        f"{s.column}={s.value}: {metric.label} {s.score:.4g} vs {overall:.4g} overall "
        f"({s.rows} rows)"
        for s in worse[:k]
    ]
