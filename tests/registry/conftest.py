"""A real, quick model on the bike-sharing data shipped in the package."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sluice.workspace

BIKE = Path(sluice.workspace.__file__).parent / "datasets" / "bike_sharing_hour.csv.gz"
NUMERIC = ["hr", "temp", "hum", "windspeed", "workingday"]
CATEGORICAL = ["season", "weathersit"]


@dataclass(frozen=True)
class Trained:
    model: Any
    baseline: Any
    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series


@pytest.fixture(scope="session")
def bike() -> pd.DataFrame:
    with gzip.open(BIKE, "rt") as fh:
        df = pd.read_csv(fh, nrows=4000)
    df["season"] = df["season"].map({1: "winter", 2: "spring", 3: "summer", 4: "autumn"})
    df["weathersit"] = df["weathersit"].map({1: "clear", 2: "mist", 3: "rain", 4: "storm"})
    return df[[*NUMERIC, *CATEGORICAL, "cnt"]]


@pytest.fixture(scope="session")
def trained(bike: pd.DataFrame) -> Trained:
    """Gradient boosting behind one-hot encoding, fitted on the first 3000 hours."""
    from sklearn.compose import ColumnTransformer
    from sklearn.dummy import DummyRegressor
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    X, y = bike.drop(columns="cnt"), bike["cnt"]
    X_train, X_test, y_train, y_test = X[:3000], X[3000:], y[:3000], y[3000:]
    prep = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)], remainder="passthrough"
    )
    model = Pipeline(
        [("prep", prep), ("gb", HistGradientBoostingRegressor(max_iter=60, random_state=0))]
    )
    model.fit(X_train, y_train)
    baseline = DummyRegressor().fit(X_train, y_train)
    return Trained(model, baseline, X_train, y_train, X_test, y_test)
