"""A real model of the bike data registered in a real workspace, and its prediction log.

Helpers, not fixtures: the monitor tests build what they need from these. The
model is trained once per session on 2011 (gradient boosting, few iterations);
each test registers it into its own workspace with the 2011 data as a dataset
version, then logs real predictions with ``PredictionLog``.
"""

from __future__ import annotations

import functools
import gzip
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sluice.workspace
from sluice.data import add_version
from sluice.models.metrics import compute_all, outcome
from sluice.models.persistence import dumps
from sluice.models.signature import infer_signature
from sluice.predictions import PredictionLog
from sluice.registry import ModelVersion, register_version
from sluice.workspace import Workspace

BIKE = Path(sluice.workspace.__file__).parent / "datasets" / "bike_sharing_hour.csv.gz"
NUMERIC = ["hr", "temp", "hum", "windspeed", "workingday"]
CATEGORICAL = ["season", "weathersit"]
FEATURES = [*NUMERIC, *CATEGORICAL, "holiday", "dteday"]
TARGET = "cnt"
MODEL = "bike-demand"
JAN_2013 = 1356998400.0
AUG_2012 = 1343779200.0


@functools.cache
def load_bikes() -> pd.DataFrame:
    """The hourly data with readable categories, a boolean and a datetime column."""
    with gzip.open(BIKE, "rt") as fh:
        df = pd.read_csv(fh)
    df["season"] = df["season"].map({1: "winter", 2: "spring", 3: "summer", 4: "autumn"})
    df["weathersit"] = df["weathersit"].map({1: "clear", 2: "mist", 3: "rain", 4: "storm"})
    df["holiday"] = df["holiday"].astype(bool)
    df["dteday"] = pd.to_datetime(df["dteday"])
    df["timestamp"] = (df["dteday"] - pd.Timestamp(0)) / pd.Timedelta(seconds=1) + df["hr"] * 3600
    return df


def july_2012() -> pd.DataFrame:
    """A summer of the second year: more riders, warmer, every row in season 'summer'."""
    bikes = load_bikes()
    return bikes[(bikes.yr == 1) & (bikes.dteday.dt.month == 7)].reset_index(drop=True)


def drawn_from_2011(n: int, seed: int = 0) -> pd.DataFrame:
    """Rows of the reference itself, logged one minute apart from 2013-01-01."""
    rows = trained_2011().train.sample(n, random_state=seed).reset_index(drop=True)
    return rows.assign(timestamp=JAN_2013 + 60.0 * np.arange(n))


@dataclass(frozen=True)
class Trained:
    model: Any
    train: pd.DataFrame  # 2011, features and target
    metrics: dict[str, float]


@functools.cache
def trained_2011() -> Trained:
    """Trained once per test process, shared by every module."""
    return train_2011(load_bikes())


def train_2011(bikes: pd.DataFrame) -> Trained:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    year = bikes[bikes.yr == 0][[*FEATURES, TARGET]].reset_index(drop=True)
    cut = int(len(year) * 0.8)
    fit, holdout = year.iloc[:cut], year.iloc[cut:]
    prep = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("num", "passthrough", [*NUMERIC, "holiday"]),
        ],
        remainder="drop",  # dteday is in the signature but not used
    )
    model = Pipeline(
        [("prep", prep), ("gb", HistGradientBoostingRegressor(max_iter=40, random_state=0))]
    )
    model.fit(fit[FEATURES], fit[TARGET])
    said = outcome(model, holdout[FEATURES], holdout[TARGET], "regression")
    return Trained(model, year, compute_all(said, "regression"))


def register(ws: Workspace, trained: Trained, folder: Path) -> ModelVersion:
    """The 2011 data as dataset ``bikes-2011`` and the model as ``bike-demand`` v1."""
    path = folder / "bikes-2011.csv"
    if not path.exists():
        trained.train.to_csv(path, index=False)
    dataset = add_version(ws, path, "bikes-2011", target=TARGET)
    return register_version(
        ws,
        MODEL,
        model_bytes=dumps(trained.model),
        signature=infer_signature(trained.train[FEATURES], trained.model, task="regression"),
        dataset_version_id=dataset.id,
        params={},
        metrics=trained.metrics,
        extra={"task": "regression", "evaluation": {"metric": "rmse"}},
    )


def log_rows(
    ws: Workspace,
    model: Any,
    rows: pd.DataFrame,
    *,
    version: int = 1,
    batch: int = 24,
    feedback: bool = False,
    timestamps: np.ndarray | None = None,
) -> list[str]:
    """Log real predictions of ``rows`` in batches (one timestamp per batch); their ids."""
    ids = [uuid.uuid4().hex for _ in range(len(rows))]
    stamps = rows["timestamp"].to_numpy() if timestamps is None else timestamps
    with PredictionLog(ws, MODEL, flush_interval=60.0) as log:  # written on close
        for i in range(0, len(rows), batch):
            part = rows.iloc[i : i + batch]
            inputs = part[FEATURES].reset_index(drop=True)
            log.append(
                inputs,
                request_ids=ids[i : i + batch],
                model_version=version,
                predictions=model.predict(inputs),
                timestamp=float(stamps[i]),
            )
        if feedback:
            log.append_feedback(request_ids=ids, labels=rows[TARGET].tolist())
    return ids
