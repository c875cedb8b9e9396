"""Model selection fanned out over a real Dask cluster: the same leaderboard as a serial run,
work that really ran on both workers, and selection called from inside a worker's task."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sluice.data.schema import ColumnKind, ColumnSchema, Role, Schema
from sluice.errors import ClusterError, SluiceError
from sluice.models.candidates import CandidateSettings, SearchSettings, candidates_for
from sluice.models.selection import CandidateResult, SelectionResult, select
from tests.cluster import DaskCluster

pytestmark = pytest.mark.xdist_group("dask")

K, R = ColumnKind, Role
ROOT = Path(__file__).resolve().parents[2]
ROWS = 3000  # the first four months of the hourly bike data: a few seconds per selection
SMALL = CandidateSettings(n_estimators=20, n_jobs=1)


@pytest.fixture(scope="module")
def bike() -> tuple[pd.DataFrame, pd.Series, Schema]:
    """The bike-sharing data shipped in the package: features, target, schema."""
    path = resources.files("sluice") / "datasets" / "bike_sharing_hour.csv.gz"
    with resources.as_file(path) as real:
        df = pd.read_csv(real, nrows=ROWS)
    df["dteday"] = pd.to_datetime(df["dteday"]) + pd.to_timedelta(df["hr"], unit="h")
    cols = [ColumnSchema("instant", K.NUMERIC, R.ID), ColumnSchema("dteday", K.DATETIME, R.TIME)]
    cols += [ColumnSchema(c, K.CATEGORICAL, R.FEATURE) for c in ("season", "weathersit")]
    numeric = ("yr", "mnth", "hr", "weekday", "temp", "atemp", "hum", "windspeed")
    cols += [ColumnSchema(c, K.NUMERIC, R.FEATURE) for c in numeric]
    cols += [ColumnSchema(c, K.BOOLEAN, R.FEATURE) for c in ("holiday", "workingday")]
    cols += [ColumnSchema(c, K.NUMERIC, R.IGNORED) for c in ("casual", "registered")]
    cols += [ColumnSchema("cnt", K.NUMERIC, R.TARGET)]
    schema = Schema(tuple(cols), target="cnt", time_column="dteday", task="regression")
    return df.drop(columns=["cnt"]), df["cnt"], schema


def _select(data: tuple[pd.DataFrame, pd.Series, Schema], **kw: Any) -> SelectionResult:
    X, y, schema = data
    return select(
        X,
        y,
        task="regression",
        candidates=candidates_for("regression", settings=SMALL),
        schema=schema,
        cv=3,
        **kw,
    )


def _same(fanned: SelectionResult, serial: SelectionResult) -> None:
    """Everything but the timings and the model sizes is equal; scores to 1e-12."""
    assert fanned.winner == serial.winner
    assert fanned.reasons == serial.reasons
    assert [r.name for r in fanned.leaderboard] == [r.name for r in serial.leaderboard]
    for a, b in zip(fanned.leaderboard, serial.leaderboard, strict=True):
        assert a.cv_scores == pytest.approx(b.cv_scores, abs=1e-12, rel=0)
        assert (a.params, a.warnings) == (b.params, b.warnings)
        # skops names each array by its object's id: a saved model's size varies by a few bytes
        assert a.size_bytes == pytest.approx(b.size_bytes, rel=0.05)


def _workers_of(stream: list[dict[str, Any]], prefix: str) -> dict[str, str]:
    """Task key → worker address, for the tasks whose key starts with ``prefix``."""
    return {t["key"]: t["worker"] for t in stream if str(t["key"]).startswith(prefix)}


def test_candidates_fan_out_over_both_workers_with_the_serial_leaderboard(
    dask_cluster: DaskCluster, bike: tuple[pd.DataFrame, pd.Series, Schema]
) -> None:
    from distributed import get_task_stream

    serial = _select(bike)
    seen: list[tuple[str, int]] = []
    with dask_cluster.client() as client, get_task_stream(client) as stream:
        fanned = _select(
            bike,
            cluster=dask_cluster.address,
            on_candidate=lambda row: seen.append((row.name, os.getpid())),
        )
    _same(fanned, serial)
    names = [c.name for c in candidates_for("regression")]
    assert seen == [(name, os.getpid()) for name in names]  # in order, in this process
    folds = _workers_of(stream.data, "sluice-fold-")
    assert len(folds) == len(names) * 3
    assert {k.rsplit("-", 2)[0] for k in folds} == {f"sluice-fold-{n}" for n in names}
    assert len(set(folds.values())) == 2  # both workers did some
    assert len(_workers_of(stream.data, "sluice-search-")) == len(names)


def test_search_trials_fan_out_too_and_find_the_same_settings(
    dask_cluster: DaskCluster, bike: tuple[pd.DataFrame, pd.Series, Schema]
) -> None:
    from distributed import get_task_stream

    search = SearchSettings(enabled=True, n_iter=3, cv=2)
    serial = _select(bike, search=search)
    with dask_cluster.client() as client, get_task_stream(client) as stream:
        fanned = _select(bike, search=search, cluster=client)
        assert client.status == "running"  # a client we pass is left open
    _same(fanned, serial)
    trials = [t for t in stream.data if "_fit_and_score" in str(t["key"])]
    assert trials, "the search's trials did not run as tasks of their own"
    searches = _workers_of(stream.data, "sluice-search-")
    # where each trial goes is the scheduler's choice (it keeps small tasks by their data)
    assert {t["worker"] for t in trials} <= _cluster_workers(dask_cluster)
    assert len(searches) == len(candidates_for("regression"))


def _cluster_workers(dask_cluster: DaskCluster) -> set[str]:
    with dask_cluster.client() as client:
        return set(client.scheduler_info()["workers"])


def _select_inside_a_task(data: tuple[pd.DataFrame, pd.Series, Schema]) -> dict[str, Any]:
    from distributed import get_worker

    worker = get_worker()
    key = worker.get_current_task()
    pids: list[int] = []
    stepped_aside: list[bool] = []

    def on_candidate(row: Any) -> None:
        pids.append(os.getpid())
        stepped_aside.append(any(t.key == key for t in worker.state.long_running))

    result = _select(
        data, search=SearchSettings(enabled=True, n_iter=2, cv=2), on_candidate=on_candidate
    )
    return {
        "result": result.to_dict(),
        "worker": worker.address,
        "pid": os.getpid(),
        "callbacks": pids,
        "stepped_aside": stepped_aside,
    }


def test_select_inside_a_worker_task_fans_out_over_the_same_cluster(
    dask_cluster: DaskCluster, bike: tuple[pd.DataFrame, pd.Series, Schema]
) -> None:
    """Two workers of one thread each: the task calling select holds one of the two
    threads unless it steps aside while it waits; it must, or nothing else could run."""
    from distributed import get_task_stream

    serial = _select(bike, search=SearchSettings(enabled=True, n_iter=2, cv=2))
    with dask_cluster.client() as client, get_task_stream(client) as stream:
        outer = client.submit(_select_inside_a_task, bike, key="outer-select", pure=False)
        got = outer.result(timeout=240)
    assert got["result"] == {**serial.to_dict(), "leaderboard": got["result"]["leaderboard"]}
    rows = [CandidateResult(**r) for r in got["result"]["leaderboard"]]
    for a, b in zip(rows, serial.leaderboard, strict=True):
        assert a.name == b.name
        assert a.cv_scores == pytest.approx(b.cv_scores, abs=1e-12, rel=0)
    assert got["callbacks"] == [got["pid"]] * len(rows)  # in the calling task's process
    # the waiting task left its worker's only thread to the folds (where they then ran
    # is the scheduler's choice)
    assert got["stepped_aside"] == [True] * len(rows)
    folds = _workers_of(stream.data, "sluice-fold-")
    assert len(folds) == len(rows) * 3
    assert set(folds.values()) <= _cluster_workers(dask_cluster)


def test_a_plain_local_run_stays_serial_and_never_loads_dask() -> None:
    code = (
        "import sys\n"
        "from tests.distributed.test_candidates_dask import _local_run\n"
        "_local_run()\n"
        "print('distributed' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip().splitlines()[-1] == "False"


def _local_run() -> None:
    from tests.models.conftest import odd_frame, odd_schema

    df = odd_frame(300)
    select(
        df.drop(columns=["y"]),
        df["y"],
        task="regression",
        candidates=candidates_for("regression", include=["ridge"]),
        schema=odd_schema("regression"),
        cv=2,
    )


def test_explicit_fan_out_without_dask_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, bike: tuple[pd.DataFrame, pd.Series, Schema]
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    with pytest.raises(ClusterError, match=r"pip install 'sluice\[dask\]'") as caught:
        _select(bike, cluster="tcp://127.0.0.1:8786")
    assert isinstance(caught.value.__cause__, ImportError)
    assert isinstance(caught.value, SluiceError)


def test_an_unreachable_scheduler_or_an_odd_cluster_value_is_a_cluster_error(
    bike: tuple[pd.DataFrame, pd.Series, Schema],
) -> None:
    import dask

    unreachable = "tcp://127.0.0.1:9"
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(
            ClusterError, match=re.escape(f"Expected a Dask scheduler at {unreachable!r}")
        ),
    ):
        _select(bike, cluster=unreachable)
    with pytest.raises(ClusterError, match="got int 4"):
        _select(bike, cluster=4)
