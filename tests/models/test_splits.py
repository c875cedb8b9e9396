"""Cross-validation splitters and the data problems that stop them, with their messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit

from sluice.errors import ModelError
from sluice.models.splits import make_splitter, time_order


def test_the_splitter_fits_the_task_and_time() -> None:
    y = np.array([0, 1] * 10)
    assert isinstance(
        make_splitter(y, task="classification", folds=5, time_ordered=False), StratifiedKFold
    )
    assert isinstance(make_splitter(y, task="regression", folds=5, time_ordered=False), KFold)
    assert isinstance(
        make_splitter(y, task="regression", folds=5, time_ordered=True), TimeSeriesSplit
    )


def test_fewer_rows_than_folds() -> None:
    with pytest.raises(ModelError) as err:
        make_splitter(np.arange(4.0), task="regression", folds=5, time_ordered=False)
    assert str(err.value) == (
        "Expected at least 5 training rows for 5-fold cross-validation; got 4. "
        "Add rows or lower 'cv' in sluice.yaml (at least 2)."
    )
    with pytest.raises(ModelError, match="Expected at least 6 training rows"):
        make_splitter(np.arange(5.0), task="regression", folds=5, time_ordered=True)


def test_a_single_class() -> None:
    with pytest.raises(ModelError) as err:
        make_splitter(np.array(["yes"] * 30), task="classification", folds=5, time_ordered=False)
    assert str(err.value) == (
        "Expected at least two classes in the target for classification; got only 'yes' in 30 "
        "rows. Check the target column, or use more data that has other classes."
    )


def test_a_class_too_rare_for_stratified_folds() -> None:
    y = np.array(["a"] * 20 + ["b"] * 20 + ["c"] * 2)
    with pytest.raises(ModelError) as err:
        make_splitter(y, task="classification", folds=5, time_ordered=False)
    assert str(err.value) == (
        "Expected at least 5 rows of each class for 5-fold stratified cross-validation; "
        "class 'c' has 2. Add rows of that class, merge it with a similar class, "
        "or lower 'cv' in sluice.yaml."
    )


@pytest.mark.parametrize("folds", [1, 0, 2.5])
def test_a_bad_number_of_folds(folds: object) -> None:
    with pytest.raises(ModelError) as err:
        make_splitter(np.arange(10.0), task="regression", folds=folds, time_ordered=False)  # type: ignore[arg-type]
    assert str(err.value) == (
        f"Expected 'cv' to be a whole number of folds, at least 2; got {folds!r}. "
        "Set 'cv' in sluice.yaml to 5 (the default) or another number ≥ 2."
    )


def test_time_order_sorts_rows_and_target_together() -> None:
    X = pd.DataFrame(
        {"t": ["2024-01-03", "2024-01-01", "2024-01-02"], "v": [3, 1, 2]}, index=[7, 8, 9]
    )
    X2, y2 = time_order(X, [30, 10, 20], "t")
    assert list(X2["v"]) == [1, 2, 3] and list(y2) == [10, 20, 30]
    assert list(X2.index) == [0, 1, 2]


def test_time_order_sorts_time_zone_aware_stamps_with_gaps() -> None:
    stamps = pd.Series(pd.date_range("2024-01-01", periods=60, freq="h", tz="Europe/Paris"))
    shuffled = stamps.sample(frac=1, random_state=3).reset_index(drop=True)
    shuffled = shuffled.where(shuffled.index % 7 != 0)
    X2, _ = time_order(pd.DataFrame({"t": shuffled}), np.arange(60), "t")
    known = X2["t"].dropna()
    assert known.is_monotonic_increasing  # no future row before a past one in a fold
    assert X2["t"].iloc[len(known) :].isna().all()  # unknown times last, as in the holdout split


def test_time_order_compares_mixed_offsets_as_instants() -> None:
    X = pd.DataFrame(
        {"t": ["2024-01-01T01:00:00+02:00", "2024-01-01T00:30:00+00:00", "2024-01-01T00:00+00:00"]}
    )
    _, y2 = time_order(X, [0, 1, 2], "t")
    assert list(y2) == [0, 2, 1]  # 23:00, 00:00 and 00:30 UTC
