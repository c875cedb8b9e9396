"""Cross-validation splitters, checked against the data before any model is fitted.

Time-ordered data gets forward-chaining splits (never train on the future);
classification gets stratified folds so each fold sees every class; regression
gets shuffled K-fold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sluice.errors import ModelError
from sluice.models.types import Task


def make_splitter(
    y: Any, *, task: Task | str, folds: int, time_ordered: bool, random_state: int = 0
) -> Any:
    """A scikit-learn splitter for ``y``; ModelError when the data cannot be split so."""
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit

    task = Task.parse(task)
    _check_folds(folds)
    n_rows = len(y)
    needed = folds + 1 if time_ordered else folds
    if n_rows < needed:
        raise ModelError(
            f"Expected at least {needed} training rows for {folds}-fold cross-validation; "
            f"got {n_rows}. Add rows or lower 'cv' in sluice.yaml (at least 2)."
        )
    if task is Task.CLASSIFICATION:
        _check_classes(y, folds, stratified=not time_ordered)
    if time_ordered:
        return TimeSeriesSplit(n_splits=folds)
    if task is Task.CLASSIFICATION:
        return StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    return KFold(n_splits=folds, shuffle=True, random_state=random_state)


def _check_folds(folds: int) -> None:
    if not isinstance(folds, int) or folds < 2:
        raise ModelError(
            f"Expected 'cv' to be a whole number of folds, at least 2; got {folds!r}. "
            "Set 'cv' in sluice.yaml to 5 (the default) or another number ≥ 2."
        )


def _check_classes(y: Any, folds: int, *, stratified: bool) -> None:
    import pandas as pd

    counts = pd.Series(np.asarray(y)).value_counts(dropna=True)
    if len(counts) < 2:
        only = counts.index[0] if len(counts) else "nothing"
        raise ModelError(
            f"Expected at least two classes in the target for classification; got only {only!r} "
            f"in {len(y)} rows. Check the target column, or use more data that has other classes."
        )
    rarest, n_rarest = counts.index[-1], int(counts.iloc[-1])
    if stratified and n_rarest < folds:
        raise ModelError(
            f"Expected at least {folds} rows of each class for {folds}-fold stratified "
            f"cross-validation; class {rarest!r} has {n_rarest}. Add rows of that class, "
            "merge it with a similar class, or lower 'cv' in sluice.yaml."
        )


def time_order(X: Any, y: Any, time_column: str | None) -> tuple[Any, Any]:
    """(X, y) as a fresh 0..n-1 index, sorted by ``time_column`` when it is one of X's."""
    import pandas as pd

    X = X.reset_index(drop=True)
    y = pd.Series(np.asarray(y)).reset_index(drop=True)
    if time_column and time_column in X.columns:
        # in UTC, so that offsets that differ between rows compare as instants; sorted by
        # pandas, since NumPy misorders time-zone aware stamps (objects) around a NaT
        stamps = pd.to_datetime(X[time_column], errors="coerce", format="mixed", utc=True)
        order = stamps.sort_values(kind="stable").index.to_numpy()
        X, y = X.iloc[order].reset_index(drop=True), y.iloc[order].reset_index(drop=True)
    return X, y
