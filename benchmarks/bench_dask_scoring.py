"""Batch scoring on a Dask cluster: throughput, and each worker's memory as the data grows.

Run from the repository root::

    .venv/bin/python benchmarks/bench_dask_scoring.py                   # 2.5M and 10M rows
    .venv/bin/python benchmarks/bench_dask_scoring.py --rows 1000000    # a quicker look

The model: gradient boosting (scikit-learn's HistGradientBoostingRegressor, 100
iterations, seed 0) behind a one-hot encoder, trained on the bundled bike-sharing
data and registered in a fresh workspace; it is loaded the way ``sluice predict``
loads it (hash-checked, no pickle). The data: bike rows resampled with a fixed
seed, written once under ``benchmarks/.work/dask_scoring/`` as Parquet files of
``--rows-per-file`` rows each. A local scheduler and two single-threaded worker
processes (``distributed.LocalCluster``) score each size with
``sluice.serving.batch_dask.score_parquet``; a thread samples every worker's
resident memory (psutil, through ``client.run``) four times a second. Per-worker
peak memory that stays level while the rows grow four-fold is the point: each
worker holds one file at a time. The table is printed and written to
``benchmarks/results/dask_scoring.md``.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
RESULTS = HERE / "results" / "dask_scoring.md"
WORK = HERE / ".work" / "dask_scoring"
DATA = ROOT / "sluice" / "datasets" / "bike_sharing_hour.csv.gz"
NUMERIC = ["hr", "temp", "atemp", "hum", "windspeed", "workingday", "weekday", "mnth"]
CATEGORICAL = ["season", "weathersit"]
FEATURES = [*NUMERIC, *CATEGORICAL]
MODEL = "bike-dask"
SEED = 0


def bikes() -> pd.DataFrame:
    with gzip.open(DATA, "rt") as fh:
        frame = pd.read_csv(fh)
    frame["season"] = frame["season"].map({1: "winter", 2: "spring", 3: "summer", 4: "autumn"})
    frame["weathersit"] = frame["weathersit"].map({1: "clear", 2: "mist", 3: "rain", 4: "storm"})
    return frame


def register(home: Path, frame: pd.DataFrame) -> Any:
    """Train, register in a fresh workspace, and load back as ``sluice predict`` does."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from sluice.models.persistence import dumps
    from sluice.models.signature import infer_signature
    from sluice.registry import load_model, register_version
    from sluice.workspace import Workspace

    prep = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("num", "passthrough", NUMERIC),
        ]
    )
    model = Pipeline(
        [("prep", prep), ("gb", HistGradientBoostingRegressor(max_iter=100, random_state=SEED))]
    ).fit(frame[FEATURES], frame["cnt"])
    shutil.rmtree(home, ignore_errors=True)
    ws = Workspace.at(home)
    try:
        register_version(
            ws,
            MODEL,
            model_bytes=dumps(model),
            signature=infer_signature(frame[FEATURES], model, task="regression"),
            params={},
            metrics={},
        )
        return load_model(f"models:/{MODEL}/1", workspace=ws)
    finally:
        ws.close()


def write_dataset(frame: pd.DataFrame, rows: int, per_file: int) -> Path:
    """``rows`` resampled bike rows as Parquet files of ``per_file`` rows (kept between runs)."""
    folder = WORK / f"rows-{rows}-{per_file}"
    done = folder / "_done"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(SEED)
    features = frame[FEATURES].reset_index(drop=True)
    for n, start in enumerate(range(0, rows, per_file)):
        size = min(per_file, rows - start)
        part = features.iloc[rng.integers(0, len(features), size)].reset_index(drop=True)
        part.insert(0, "row_id", np.arange(start, start + size, dtype=np.int64))
        part.to_parquet(folder / f"part-{n:05d}.parquet", index=False)
    done.write_text("ok\n")
    return folder


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


class Sampler:
    """Each worker's resident memory, sampled from a thread until stopped: peak per worker."""

    def __init__(self, client: Any, interval: float = 0.25) -> None:
        self.client, self.interval = client, interval
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        for worker, rss in self.client.run(_rss).items():
            self.peaks[worker] = max(self.peaks.get(worker, 0), rss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)


def check(loaded: Any, source: Path, output: Path) -> None:
    """The first file's predictions equal the loaded model's, in memory."""
    first = sorted(source.glob("*.parquet"))[0]
    expected = loaded.predict(pd.read_parquet(first)[FEATURES])
    got = pd.read_parquet(sorted(output.glob("*.parquet"))[0])
    np.testing.assert_allclose(got["prediction"].to_numpy(), expected, rtol=1e-12)


def run(client: Any, loaded: Any, source: Path, rows: int) -> dict[str, Any]:
    from sluice.serving.batch_dask import score_parquet

    output = WORK / f"scored-{rows}"
    client.run(_collect)
    baseline = client.run(_rss)
    with Sampler(client) as sampler:
        summary = score_parquet(loaded, source, output, cluster=client, overwrite=True)
    check(loaded, source, output)
    shutil.rmtree(output)
    return {
        "rows": summary.rows,
        "files": summary.chunks,
        "seconds": summary.seconds,
        "rows_per_s": summary.rows_per_second,
        "baseline": baseline,
        "peaks": sampler.peaks,
    }


def in_process(loaded: Any, source: Path) -> float:
    """Rows per second of ``score_file`` on one of the files, in this process, alone."""
    from sluice.serving.batch import score_file

    first = sorted(source.glob("*.parquet"))[0]
    output = WORK / "scored-in-process.parquet"
    summary = score_file(loaded, first, output, overwrite=True)
    output.unlink()
    return summary.rows_per_second


def _collect() -> None:
    import gc

    gc.collect()


def table(results: list[dict[str, Any]], per_file: int, command: str, alone: float) -> str:
    mib = 2**20
    lines = [
        "# Batch scoring on a Dask cluster: throughput and per-worker memory",
        "",
        f"Command: `{command}`  ",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; a local scheduler and 2 single-threaded worker processes "
        f"(`distributed.LocalCluster`). Model: one-hot + HistGradientBoostingRegressor "
        f"(100 iterations) on the bike data, loaded hash-checked from a sluice registry. "
        f"Data: resampled bike rows, Parquet files of {per_file:,} rows, 11 columns. "
        "Worker memory: resident set size sampled every 0.25 s.",
        "",
        "| rows | files | seconds | rows/s | worker idle RSS, MiB | worker peak RSS, MiB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        idle = " / ".join(f"{v / mib:.0f}" for v in r["baseline"].values())
        peak = " / ".join(f"{v / mib:.0f}" for v in r["peaks"].values())
        lines.append(
            f"| {r['rows']:,} | {r['files']} | {r['seconds']:.1f} | {r['rows_per_s']:,.0f} "
            f"| {idle} | {peak} |"
        )
    small, large = results[0], results[-1]
    growth = max(large["peaks"].values()) / max(small["peaks"].values())
    lines += [
        "",
        f"Rows grew {large['rows'] / small['rows']:.1f}×; the largest worker peak grew "
        f"{growth:.2f}× ({max(small['peaks'].values()) / mib:.0f} → "
        f"{max(large['peaks'].values()) / mib:.0f} MiB): memory per worker is bounded by a "
        "file, not by the dataset. The first file's predictions were checked against the "
        "model in memory after each run.",
        "",
        f"For scale: `score_file` on one of these files in one process, with the machine to "
        f"itself, scores {alone:,.0f} rows/s. On the cluster the two workers share the two "
        "cores with the scheduler and the client, each scoring under one OpenMP thread.",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[2_500_000, 10_000_000], help="dataset sizes"
    )
    parser.add_argument("--rows-per-file", type=int, default=250_000, help="rows per file")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the Markdown")
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    WORK.mkdir(parents=True, exist_ok=True)
    frame = bikes()
    loaded = register(WORK / "home", frame)
    sources = {rows: write_dataset(frame, rows, args.rows_per_file) for rows in args.rows}
    alone = in_process(loaded, sources[min(sources)])
    results = []
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        for rows in sorted(sources):
            results.append(run(client, loaded, sources[rows], rows))
            r = results[-1]
            print(f"{rows:,} rows: {r['seconds']:.1f} s, {r['rows_per_s']:,.0f} rows/s", flush=True)
    command = " ".join([".venv/bin/python", "benchmarks/bench_dask_scoring.py", *argv])
    text = table(results, args.rows_per_file, command, alone)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
