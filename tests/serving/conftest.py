"""Real models on the bundled bike data, registered in a temp workspace, served by real servers.

One workspace per test session holds:

- ``bike-demand`` (regression, version 1 = champion): a random forest behind sluice's own
  preprocessing (imputation, one-hot categories, booleans, calendar features of a datetime);
- ``busy-hour`` (classification, classes busy/quiet), with probabilities;
- ``bike-reload`` versions 1 and 2 (different forests), for alias moves;
- ``bike-log``, whose prediction log only the graceful-stop tests write.

Servers are ``sluice serve`` subprocesses on a free loopback port, stopped with SIGTERM.
"""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import sluice.workspace
from sluice.workspace import Workspace

BIKE = Path(sluice.workspace.__file__).parent / "datasets" / "bike_sharing_hour.csv.gz"
NUMERIC = ["hr", "temp", "hum", "windspeed"]
CATEGORICAL = ["season", "weathersit"]
FEATURES = [*NUMERIC, *CATEGORICAL, "workingday", "dteday"]
SLUICE = str(Path(sys.executable).parent / "sluice")
SEASONS = {1: "winter", 2: "spring", 3: "summer", 4: "autumn"}
WEATHER = {1: "clear", 2: "mist", 3: "rain", 4: "storm"}


@dataclass(frozen=True)
class Models:
    home: Path
    X: pd.DataFrame  # rows the models did not train on, with every feature column
    y: pd.Series


def bike_frame(nrows: int = 3600) -> pd.DataFrame:
    with gzip.open(BIKE, "rt") as fh:
        df = pd.read_csv(fh, nrows=nrows)
    df["season"] = df["season"].map(SEASONS)
    df["weathersit"] = df["weathersit"].map(WEATHER)
    df["workingday"] = df["workingday"].astype(bool)
    df["dteday"] = pd.to_datetime(df["dteday"]) + pd.to_timedelta(df["hr"], unit="h")
    return df[[*FEATURES, "cnt"]]


def _schema() -> Any:
    from sluice.data.schema import ColumnKind, ColumnSchema, Role, Schema

    cols = [ColumnSchema(c, ColumnKind.NUMERIC) for c in NUMERIC]
    cols += [ColumnSchema(c, ColumnKind.CATEGORICAL) for c in CATEGORICAL]
    cols += [ColumnSchema("workingday", ColumnKind.BOOLEAN)]
    cols += [ColumnSchema("dteday", ColumnKind.DATETIME, Role.TIME)]
    cols += [ColumnSchema("cnt", ColumnKind.NUMERIC, Role.TARGET)]
    return Schema(tuple(cols), target="cnt", time_column="dteday", task="regression")


def _register(ws: Workspace, name: str, estimator: Any, X: pd.DataFrame, y: Any, task: str) -> Any:
    from sluice.models.features import build_model
    from sluice.models.persistence import dumps
    from sluice.models.signature import infer_signature
    from sluice.registry import register_version

    model = build_model(_schema(), estimator).fit(X, y)
    return register_version(
        ws,
        name,
        model_bytes=dumps(model),
        signature=infer_signature(X, model, task=task),
        params={"n_estimators": estimator.n_estimators},
        metrics={"score": 1.0},
        seed=0,
    )


def _register_strict(ws: Workspace, X: pd.DataFrame, y: Any) -> None:
    """``strict``: a plain scikit-learn pipeline whose encoder raises on an unseen category,
    so in flag mode one record can break ``predict`` while its neighbours are fine."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from sluice.models.persistence import dumps
    from sluice.models.signature import infer_signature
    from sluice.registry import register_version

    cols = ["temp", "hum", "weathersit"]
    prep = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="error"), ["weathersit"])], remainder="passthrough"
    )
    model = Pipeline([("prep", prep), ("ridge", Ridge())]).fit(X[cols], y)
    register_version(
        ws,
        "strict",
        model_bytes=dumps(model),
        signature=infer_signature(X[cols], model, task="regression"),
        params={},
        metrics={},
    )


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    df = bike_frame()
    train, rest = df[:3000], df[3000:].reset_index(drop=True)
    X, y = train[FEATURES], train["cnt"]
    busy = (y > y.median()).map({True: "busy", False: "quiet"})
    home = tmp_path_factory.mktemp("serving") / "home"
    ws = Workspace.at(home)
    try:

        def forest(seed: int, depth: int = 8) -> Any:
            return RandomForestRegressor(n_estimators=8, max_depth=depth, random_state=seed)

        _register(ws, "bike-demand", forest(0), X, y, "regression")
        clf = RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0)
        _register(ws, "busy-hour", clf, X, busy, "classification")
        _register(ws, "bike-reload", forest(1, depth=3), X, y, "regression")
        _register(ws, "bike-reload", forest(2, depth=10), X, y, "regression")
        _register(ws, "bike-log", forest(3, depth=4), X, y, "regression")
        _register_strict(ws, X, y)
    finally:
        ws.close()
    return Models(home, rest[FEATURES], rest["cnt"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A ``sluice serve`` subprocess and an httpx client pointed at it."""

    def __init__(self, home: Path, uri: str, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = os.environ | {"SLUICE_HOME": str(home), "OMP_NUM_THREADS": "1"}
        env.pop("SLUICE_DB_URL", None)
        env.pop("SLUICE_ARTIFACTS", None)
        self.proc = subprocess.Popen(
            [SLUICE, "serve", uri, "--port", str(self.port), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.client = httpx.Client(base_url=self.url, timeout=30)
        self.output = ""
        self.graceful: bool | None = None  # set by stop()

    def __enter__(self) -> Server:
        return self.wait_ready()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_ready(self, timeout: float = 60) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise AssertionError(f"server exited early:\n{self.output}")
            try:
                if self.client.get("/ready").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"server not ready in time:\n{self.output}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> bool:
        """Send ``sig`` and wait; whether the app shut down gracefully.

        uvicorn re-raises the signal after its graceful shutdown, so the exit code is
        0 or minus the signal; the app's shutdown line says it finished its work.
        """
        if self.graceful is not None:
            return self.graceful
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        if self.proc.stdout is not None:
            self.output = self.proc.stdout.read()
            self.proc.stdout.close()
        self.graceful = code in (0, -sig) and "Application shutdown complete" in self.output
        return self.graceful


@pytest.fixture(scope="module")
def regression_server(models: Models) -> Iterator[Server]:
    server = Server(models.home, "models:/bike-demand@champion").wait_ready()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def classifier_server(models: Models) -> Iterator[Server]:
    server = Server(
        models.home, "models:/busy-hour@champion", "--unknown-categories", "flag"
    ).wait_ready()
    yield server
    server.stop()


def records(X: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as a client would send them: plain JSON values, datetimes as ISO text."""
    out = X.copy()
    out["dteday"] = out["dteday"].map(lambda t: t.isoformat())
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in out.to_dict(orient="records")
    ]
