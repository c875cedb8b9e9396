"""Model selection fanned out over Dask: eight candidates on one worker, on two, and in-process.

Run from the repository root::

    .venv/bin/python benchmarks/bench_dask_candidates.py             # results/dask_candidates.md
    .venv/bin/python benchmarks/bench_dask_candidates.py --repeat 1  # a quicker look

The work: ``sluice.models.select`` on the bundled bike-sharing data (17,379 hourly
rows, time-ordered, two forward-in-time folds) with eight random forests of the
same size and different seeds (``--trees`` trees, one thread each) and the mean
baseline: eight independent candidates of similar cost, 17 fold fits in all. It
runs three ways, each ``--repeat`` times, the median reported: in this process
(``cluster="serial"``), then with ``cluster=`` a ``distributed.LocalCluster`` of one
single-threaded worker process, then of two. The three leaderboards must be equal.

The overhead, two ways. First, ``--tasks`` trivial pieces of work (``x + 1``)
through sluice's :class:`~sluice.models.fanout.FanOut`, on the two-worker cluster
and in-process, timed one at a time (submit, then wait for the result) and all at
once (submit all, then read all), beside a bare ``client.submit`` of the same
function: what Dask itself costs. Second, the pipeline executors: a chain of
``--steps`` trivial steps (each ``return x + 1``, recorded in a fresh SQLite
workspace, its output in the artifact store), run cold by the in-process executor
and by the Dask executor on the two-worker cluster; the difference per step is
what placing a step on a worker costs. The table is printed and written to
``benchmarks/results/dask_candidates.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
RESULTS = HERE / "results" / "dask_candidates.md"
DATA = ROOT / "sluice" / "datasets" / "bike_sharing_hour.csv.gz"
CANDIDATES = 8
FOLDS = 2


def bikes() -> tuple[pd.DataFrame, pd.Series, Any]:
    from sluice.data.schema import ColumnKind as K
    from sluice.data.schema import ColumnSchema, Schema
    from sluice.data.schema import Role as R

    frame = pd.read_csv(DATA)
    frame["dteday"] = pd.to_datetime(frame["dteday"]) + pd.to_timedelta(frame["hr"], unit="h")
    cols = [ColumnSchema("instant", K.NUMERIC, R.ID), ColumnSchema("dteday", K.DATETIME, R.TIME)]
    cols += [ColumnSchema(c, K.CATEGORICAL, R.FEATURE) for c in ("season", "weathersit")]
    numeric = ("yr", "mnth", "hr", "weekday", "temp", "atemp", "hum", "windspeed")
    cols += [ColumnSchema(c, K.NUMERIC, R.FEATURE) for c in numeric]
    cols += [ColumnSchema(c, K.BOOLEAN, R.FEATURE) for c in ("holiday", "workingday")]
    cols += [ColumnSchema(c, K.NUMERIC, R.IGNORED) for c in ("casual", "registered")]
    cols += [ColumnSchema("cnt", K.NUMERIC, R.TARGET)]
    schema = Schema(tuple(cols), target="cnt", time_column="dteday", task="regression")
    return frame.drop(columns=["cnt"]), frame["cnt"], schema


def _forest(seed: int, trees: int) -> Any:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(
        n_estimators=trees, min_samples_leaf=2, max_features=0.5, n_jobs=1, random_state=seed
    )


def candidates(trees: int) -> list[Any]:
    from functools import partial

    from sklearn.dummy import DummyRegressor

    from sluice.models.candidates import Candidate
    from sluice.models.types import Interpretability

    forests = [
        Candidate(f"forest_{n}", partial(_forest, n, trees), Interpretability.MEDIUM, 3)
        for n in range(CANDIDATES)
    ]
    baseline = Candidate("baseline", DummyRegressor, Interpretability.HIGH, 0, baseline=True)
    return [baseline, *forests]


def run_select(data: tuple[pd.DataFrame, pd.Series, Any], trees: int, cluster: Any) -> Any:
    from sluice.models.selection import select

    X, y, schema = data
    start = time.perf_counter()
    result = select(
        X,
        y,
        task="regression",
        candidates=candidates(trees),
        schema=schema,
        cv=FOLDS,
        cluster=cluster,
    )
    return time.perf_counter() - start, result


def _one(x: int) -> int:
    return x + 1


def overhead(where: Any, tasks: int) -> dict[str, float]:
    """Per piece of trivial work: one at a time (median) and all at once (mean), in µs."""
    each = []
    for n in range(tasks):
        start = time.perf_counter()
        assert where.result(where.submit(_one, n, key="one")) == n + 1
        each.append(time.perf_counter() - start)
    start = time.perf_counter()
    pending = [where.submit(_one, n, key="one") for n in range(tasks)]
    assert [where.result(p) for p in pending] == [n + 1 for n in range(tasks)]
    together = (time.perf_counter() - start) / tasks
    return {"one_at_a_time": statistics.median(each) * 1e6, "all_at_once": together * 1e6}


class RawDask:
    """``client.submit`` and ``future.result`` alone: what Dask itself costs per task."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def submit(self, fn: Any, *args: Any, key: str) -> Any:
        return self.client.submit(fn, *args, pure=False)

    def result(self, pending: Any) -> Any:
        return pending.result()


def chain_overhead(client: Any, steps: int, repeat: int) -> dict[str, float]:
    """Seconds per step of a cold chain of trivial steps: in-process and on the cluster."""
    import tempfile

    import chain_steps  # type: ignore[import-not-found]  # written by measure()

    from sluice.pipelines import DaskExecutor, InProcessExecutor
    from sluice.workspace import Workspace

    per_step: dict[str, list[float]] = {"local": [], "dask": []}
    for n in range(repeat + 1):  # the first round warms up: imports, workspaces on the workers
        for name in per_step:
            with tempfile.TemporaryDirectory(prefix="sluice-bench-chain-") as home:
                ws = Workspace.at(home)
                executor = InProcessExecutor() if name == "local" else DaskExecutor(client=client)
                start = time.perf_counter()
                run = chain_steps.chain.run(ws, executor=executor)
                if n:
                    per_step[name].append((time.perf_counter() - start) / steps)
                assert run.output(f"s{steps - 1}") == steps and run.cache_hits == 0
                ws.close()
    return {k: statistics.median(v) * 1e3 for k, v in per_step.items()}


def cluster(workers: int) -> Any:
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    )


def leaderboard(result: Any) -> list[tuple[str, list[float]]]:
    return [(r.name, r.cv_scores) for r in result.leaderboard]


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import tempfile

    from bench_pipeline import chain_source
    from distributed import Client

    from sluice.models.fanout import DaskFanOut, Serial

    data = bikes()
    steps_folder = Path(tempfile.mkdtemp(prefix="sluice-bench-steps-"))
    (steps_folder / "chain_steps.py").write_text(chain_source(args.steps), encoding="utf-8")
    sys.path.insert(0, str(steps_folder))  # the workers, spawned, inherit sys.path
    runs: dict[str, list[float]] = {"serial": [], "1 worker": [], "2 workers": []}
    boards, fits = {}, {}
    for _ in range(args.repeat):
        seconds, result = run_select(data, args.trees, "serial")
        runs["serial"].append(seconds)
        boards["serial"] = leaderboard(result)
        fits["serial"] = [r.fit_seconds for r in result.leaderboard if not r.baseline]
    for workers in (1, 2):
        name = f"{workers} worker{'s' if workers > 1 else ''}"
        with cluster(workers) as local, Client(local) as client:
            run_select(data, args.trees, client)  # warm-up: imports on the workers
            for _ in range(args.repeat):
                seconds, result = run_select(data, args.trees, client)
                runs[name].append(seconds)
                boards[name] = leaderboard(result)
            if workers == 2:
                cost = {
                    "dask": overhead(DaskFanOut(client), args.tasks),
                    "raw": overhead(RawDask(client), args.tasks),
                    "serial": overhead(Serial(), args.tasks),
                }
                chain = chain_overhead(client, args.steps, args.repeat)
    sys.path.remove(str(steps_folder))
    shutil.rmtree(steps_folder, ignore_errors=True)
    same = boards["serial"] == boards["1 worker"] == boards["2 workers"]
    found = {"runs": runs, "same": same, "fits": fits["serial"], "overhead": cost}
    return {**found, "chain": chain}


def table(found: dict[str, Any], args: argparse.Namespace, load: float) -> str:
    runs = {k: statistics.median(v) for k, v in found["runs"].items()}
    fit = statistics.mean(found["fits"])
    over = found["overhead"]
    lines = [
        "# Model selection fanned out over Dask: eight candidates, one worker vs two",
        "",
        "Command: `.venv/bin/python benchmarks/bench_dask_candidates.py`  ",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (load average {load:.1f} at the start). "
        f"`select` on the bike data (17,379 rows, {FOLDS} time-ordered folds) with "
        f"{CANDIDATES} random forests of {args.trees} trees (one thread each, seeds 0–7) "
        "and the mean baseline; clusters are `distributed.LocalCluster`s of single-threaded "
        f"worker processes, warmed up by one run. Median of {args.repeat} runs.",
        "",
        "| where | seconds | speed-up over in-process |",
        "| --- | ---: | ---: |",
    ]
    for name, seconds in runs.items():
        lines.append(f"| {name} | {seconds:.1f} | {runs['serial'] / seconds:.2f}× |")
    lines += [
        "",
        f"Two workers against one: {runs['1 worker'] / runs['2 workers']:.2f}×. "
        f"A forest's fold fit took {fit:.2f} s on average in-process. "
        f"Leaderboards equal on all three: {'yes' if found['same'] else 'NO'}.",
        "",
        f"Overhead per trivial task ({args.tasks} tasks, through `sluice.models.fanout`):",
        "",
        "| | in-process | Dask, 2 workers | Dask − in-process | of which `client.submit` alone |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for key, label in (
        ("one_at_a_time", "one at a time: submit, wait (median), µs"),
        ("all_at_once", "all submitted, then read (mean), µs"),
    ):
        local, dask, raw = over["serial"][key], over["dask"][key], over["raw"][key]
        lines.append(f"| {label} | {local:,.1f} | {dask:,.0f} | {dask - local:,.0f} | {raw:,.0f} |")
    chain = found["chain"]
    lines += [
        "",
        f"Overhead per pipeline step: a cold chain of {args.steps} trivial steps, each "
        "recorded in a fresh SQLite workspace with its output in the artifact store "
        f"(median of {args.repeat} runs after one to warm up):",
        "",
        "| in-process executor, ms/step | Dask executor, 2 workers, ms/step | difference, ms |",
        "| ---: | ---: | ---: |",
        f"| {chain['local']:.1f} | {chain['dask']:.1f} | {chain['dask'] - chain['local']:.1f} |",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=40, help="trees per forest (default 40)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per setting (default 3)")
    parser.add_argument("--tasks", type=int, default=500, help="trivial tasks (default 500)")
    parser.add_argument("--steps", type=int, default=50, help="steps in the chain (default 50)")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    text = table(measure(args), args, load)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
