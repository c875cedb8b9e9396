"""Real frames for the models tests: the bundled bike data, credit default, odd synthetic ones."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sluice.data.schema import ColumnKind, ColumnSchema, Role, Schema

K, R = ColumnKind, Role


def col(name: str, kind: ColumnKind, role: Role = Role.FEATURE, **kw: object) -> ColumnSchema:
    return ColumnSchema(name, kind, role, **kw)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def one_openmp_thread() -> Iterator[None]:
    """Histogram boosting uses OpenMP threads that spin when the CPUs are shared (tests run
    in parallel with xdist): one thread each is several times faster then. Results do not
    change. The OpenMP runtime must be loaded first, or there is nothing to limit."""
    import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="session")
def bike() -> pd.DataFrame:
    """The UCI bike-sharing hourly data shipped in the package, in time order."""
    path = resources.files("sluice") / "datasets" / "bike_sharing_hour.csv.gz"
    with resources.as_file(path) as real:
        df = pd.read_csv(real)
    df["dteday"] = pd.to_datetime(df["dteday"]) + pd.to_timedelta(df["hr"], unit="h")
    return df


@pytest.fixture(scope="session")
def bike_schema() -> Schema:
    cols = [col("instant", K.NUMERIC, R.ID), col("dteday", K.DATETIME, R.TIME)]
    cols += [col(c, K.CATEGORICAL) for c in ("season", "weathersit")]
    cols += [col(c, K.NUMERIC) for c in ("yr", "mnth", "hr", "weekday", "temp", "atemp", "hum")]
    cols += [col("windspeed", K.NUMERIC), col("holiday", K.BOOLEAN), col("workingday", K.BOOLEAN)]
    cols += [col(c, K.NUMERIC, R.IGNORED) for c in ("casual", "registered")]  # leak the target
    cols += [col("cnt", K.NUMERIC, R.TARGET)]
    return Schema(tuple(cols), target="cnt", time_column="dteday", task="regression")


@pytest.fixture(scope="session")
def credit(shared_data: Path) -> pd.DataFrame:
    path = shared_data / "credit-default" / "default_of_credit_card_clients.csv.gz"
    return pd.read_csv(path)


@pytest.fixture(scope="session")
def credit_schema(credit: pd.DataFrame) -> Schema:
    target = "default payment next month"
    cols = [col("ID", K.NUMERIC, R.ID)]
    cols += [col(c, K.CATEGORICAL) for c in ("SEX", "EDUCATION", "MARRIAGE")]
    skip = {"ID", "SEX", "EDUCATION", "MARRIAGE", target}
    cols += [col(c, K.NUMERIC) for c in credit.columns if c not in skip]
    cols += [col(target, K.CATEGORICAL, R.TARGET)]
    return Schema(tuple(cols), target=target, task="classification")


def odd_frame(n: int = 600, seed: int = 0, classes: int = 0) -> pd.DataFrame:
    """Odd column names, missing values, booleans as text, datetimes as text, an id and a
    constant. Target ``y`` is a number, or one of ``classes`` labels when classes > 0."""
    rng = np.random.default_rng(seed)
    temp = rng.normal(15, 8, n)
    city = rng.choice(["Zürich", "Genève", "Malmö", "São Paulo"], n)
    member = rng.random(n) < 0.4
    start = pd.Timestamp("2024-01-01")
    when = start + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h")
    signal = (
        0.3 * temp + 4 * member + np.where(city == "Zürich", 5, 0) + 3 * (when.day_of_week >= 5)
    )
    df = pd.DataFrame(
        {
            "ID": np.arange(n),
            "temp °C": np.where(rng.random(n) < 0.1, np.nan, temp),
            "city.name": pd.Series(city, dtype=object).where(rng.random(n) > 0.05, None),
            "is member": pd.Series(np.where(member, "yes", "no"), dtype=object).where(
                rng.random(n) > 0.05, None
            ),
            "signup date": when.strftime("%Y-%m-%d %H:%M"),
            "always one": 1,
        }
    )
    noisy = signal + rng.normal(0, 1.0, n)
    if classes:
        edges = np.quantile(noisy, np.linspace(0, 1, classes + 1)[1:-1])
        labels = np.array(["low", "mid", "high", "top"][:classes], dtype=object)
        df["y"] = labels[np.searchsorted(edges, noisy)]
    else:
        df["y"] = noisy
    return df


def odd_schema(task: str) -> Schema:
    target_kind = K.CATEGORICAL if task == "classification" else K.NUMERIC
    cols = (
        col("ID", K.NUMERIC, R.ID),
        col("temp °C", K.NUMERIC, nullable=True),
        col("city.name", K.CATEGORICAL, nullable=True),
        col("is member", K.BOOLEAN, nullable=True),
        col("signup date", K.DATETIME),
        col("always one", K.NUMERIC, R.CONSTANT),
        col("y", target_kind, R.TARGET),
    )
    return Schema(cols, target="y", task=task)
