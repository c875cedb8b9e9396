"""Tracking, side by side with MLflow on its SQLite backend, on this machine.

    .venv/bin/python benchmarks/bench_tracking.py            # writes benchmarks/results/tracking.md

Measures, for sluice and for MLflow (``pip install mlflow``):

(a) metric values logged one ``log_metric`` call at a time in one run: 100,000
    for sluice, 10,000 for MLflow (enough to take its rate); the clock stops when
    the run has ended, so sluice's figure includes writing every row durably;
(b) 1,000 runs, each with 10 params (one ``log_params``) and 10 metrics (one
    ``log_metrics``), the clock stopping when the last run has ended;
(c) the time of ``import sluice.tracking`` and ``import mlflow`` in a fresh
    interpreter (median of 5).

Each tool runs in its own fresh subprocess and its own temporary folder; after
each part the rows are counted in the tool's own database to prove that none
was lost. sluice's parts are repeated (``--repeat``, median reported); MLflow's
run once because they take minutes. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "tracking.md"
TARGET_ONE_CALL = 500
TARGET_RUNS = 20
# MLflow pins an older pyarrow than sluice; `make bench` gives it a virtual environment
# of its own and names its interpreter here.
PEER_PYTHON = os.environ.get("BENCH_PEER_PYTHON", sys.executable)
QUIET_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PYTHONWARNINGS": "ignore"}


# -- sluice -------------------------------------------------------------------------


def sluice_one_call(folder: Path, n: int) -> dict[str, Any]:
    import sluice.tracking as tr
    from sluice.workspace import Workspace

    ws = Workspace.at(folder)
    run = tr.start_run("one-call", workspace=ws)
    started = time.perf_counter()
    for i in range(n):
        tr.log_metric("loss", 1.0 / (i + 1), step=i)
    run.end()
    seconds = time.perf_counter() - started
    count = _count(folder / "sluice.db", "SELECT count(*) FROM metrics WHERE run_id = ?", run.id)
    return {"n": n, "seconds": seconds, "stored": count}


def sluice_many_runs(folder: Path, runs: int) -> dict[str, Any]:
    import sluice.tracking as tr
    from sluice.workspace import Workspace

    ws = Workspace.at(folder)
    params = {f"param_{j}": j * 10 for j in range(10)}
    started = time.perf_counter()
    for i in range(runs):
        with tr.start_run(f"run-{i}", workspace=ws, experiment="bench"):
            tr.log_params(params)
            tr.log_metrics({f"metric_{j}": i + j / 10 for j in range(10)})
    seconds = time.perf_counter() - started
    db = folder / "sluice.db"
    stored = {
        "runs": _count(db, "SELECT count(*) FROM runs WHERE status = 'finished'"),
        "params": _count(db, "SELECT count(*) FROM params"),
        "metrics": _count(db, "SELECT count(*) FROM metrics"),
    }
    return {"runs": runs, "seconds": seconds, "stored": stored}


# -- MLflow -------------------------------------------------------------------------


def _mlflow(folder: Path) -> Any:
    import logging

    import mlflow

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    mlflow.set_experiment("bench")  # creates the database before any clock starts
    return mlflow


def mlflow_one_call(folder: Path, n: int) -> dict[str, Any]:
    mlflow = _mlflow(folder)
    run = mlflow.start_run(run_name="one-call")
    started = time.perf_counter()
    for i in range(n):
        mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
    mlflow.end_run()
    seconds = time.perf_counter() - started
    db = folder / "mlflow.db"
    count = _count(db, "SELECT count(*) FROM metrics WHERE run_uuid = ?", run.info.run_id)
    return {"n": n, "seconds": seconds, "stored": count}


def mlflow_many_runs(folder: Path, runs: int) -> dict[str, Any]:
    mlflow = _mlflow(folder)
    params = {f"param_{j}": j * 10 for j in range(10)}
    started = time.perf_counter()
    for i in range(runs):
        with mlflow.start_run(run_name=f"run-{i}"):
            mlflow.log_params(params)
            mlflow.log_metrics({f"metric_{j}": i + j / 10 for j in range(10)})
    seconds = time.perf_counter() - started
    db = folder / "mlflow.db"
    stored = {
        "runs": _count(db, "SELECT count(*) FROM runs WHERE status = 'FINISHED'"),
        "params": _count(db, "SELECT count(*) FROM params"),
        "metrics": _count(db, "SELECT count(*) FROM metrics"),
    }
    return {"runs": runs, "seconds": seconds, "stored": stored}


# -- plumbing -----------------------------------------------------------------------

PARTS = {
    ("sluice", "one_call"): sluice_one_call,
    ("sluice", "many_runs"): sluice_many_runs,
    ("mlflow", "one_call"): mlflow_one_call,
    ("mlflow", "many_runs"): mlflow_many_runs,
}


def _count(db: Path, sql: str, *args: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql, args).fetchone()[0])


def _child(tool: str, part: str, size: int) -> dict[str, Any]:
    """Run one part in a fresh interpreter and a fresh folder; return its figures."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{tool}-") as tmp:
        python = PEER_PYTHON if tool == "mlflow" else sys.executable
        cmd = [python, __file__, "--child", tool, part, str(size), tmp]
        out = subprocess.run(
            cmd, check=True, capture_output=True, text=True, env={**os.environ, **QUIET_ENV}
        )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _import_seconds(module: str, times: int = 5) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {**os.environ, **QUIET_ENV}
    python = PEER_PYTHON if module == "mlflow" else sys.executable
    runs = [
        float(
            subprocess.run(
                [python, "-c", code], check=True, capture_output=True, text=True, env=env
            ).stdout
        )
        for _ in range(times)
    ]
    return statistics.median(runs)


def _median_run(tool: str, part: str, size: int, repeat: int) -> dict[str, Any]:
    results = [_child(tool, part, size) for _ in range(repeat)]
    results.sort(key=lambda r: r["seconds"])
    best = results[len(results) // 2]
    best["all_seconds"] = [round(r["seconds"], 4) for r in results]
    return best


def measure(args: argparse.Namespace) -> dict[str, Any]:
    print("measuring import times...", file=sys.stderr)
    figures: dict[str, Any] = {"load": os.getloadavg()[0]}
    figures["import"] = {
        "sluice": _import_seconds("sluice.tracking"),
        "mlflow": _import_seconds("mlflow"),
    }
    for tool, size, repeat in (
        ("sluice", args.values, args.repeat),
        ("mlflow", args.mlflow_values, 1),
    ):
        print(f"{tool}: {size} metric values one call at a time...", file=sys.stderr)
        figures.setdefault(tool, {})["one_call"] = _median_run(tool, "one_call", size, repeat)
    for tool, repeat in (("sluice", args.repeat), ("mlflow", 1)):
        print(f"{tool}: {args.runs} runs of 10 params and 10 metrics...", file=sys.stderr)
        figures[tool]["many_runs"] = _median_run(tool, "many_runs", args.runs, repeat)
    return figures


def report(figures: dict[str, Any], command: str) -> str:
    s1, m1 = figures["sluice"]["one_call"], figures["mlflow"]["one_call"]
    s2, m2 = figures["sluice"]["many_runs"], figures["mlflow"]["many_runs"]
    rate_s, rate_m = s1["n"] / s1["seconds"], m1["n"] / m1["seconds"]
    imp = figures["import"]
    one_ratio, runs_ratio = rate_s / rate_m, m2["seconds"] / s2["seconds"]
    lines = [
        "## Tracking: sluice and MLflow side by side",
        "",
        f"Command: `{command}`  ",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (load average {figures['load']:.1f} at the start); "
        f"MLflow {_version('mlflow')} on SQLite, sluice "
        f"{_version('sluice')} on SQLite (WAL). sluice: median of {len(s1['all_seconds'])} "
        "fresh processes; MLflow: one.",
        "",
        "| measure | sluice | MLflow | ratio | target |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| (a) `log_metric` one call at a time, values/s | {rate_s:,.0f} ({s1['n']:,} values, "
        f"{s1['seconds']:.2f} s) | {rate_m:,.0f} ({m1['n']:,} values, {m1['seconds']:.2f} s) | "
        f"{one_ratio:,.0f}× | ≥ {TARGET_ONE_CALL}× {_verdict(one_ratio, TARGET_ONE_CALL)} |",
        f"| (b) {s2['runs']:,} runs × (10 params + 10 metrics), s | {s2['seconds']:.2f} | "
        f"{m2['seconds']:.2f} | {runs_ratio:,.1f}× | ≥ {TARGET_RUNS}× "
        f"{_verdict(runs_ratio, TARGET_RUNS)} |",
        f"| (c) import time, s | {imp['sluice']:.3f} | {imp['mlflow']:.3f} | "
        f"{imp['mlflow'] / imp['sluice']:,.1f}× | |",
        "",
        "Counted in each store afterwards (nothing lost):",
        "",
        "| store | (a) metric rows | (b) finished runs | (b) params | (b) metrics |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for tool, one, many in (("sluice", s1, s2), ("MLflow", m1, m2)):
        st = many["stored"]
        lines.append(
            f"| {tool} | {one['stored']:,} / {one['n']:,} | {st['runs']:,} / "
            f"{many['runs']:,} | {st['params']:,} / {many['runs'] * 10:,} | "
            f"{st['metrics']:,} / {many['runs'] * 10:,} |"
        )
    lines += [
        "",
        f"sluice timings per repetition: (a) {s1['all_seconds']} s, (b) {s2['all_seconds']} s.",
    ]
    return "\n".join(lines) + "\n"


def _verdict(ratio: float, target: float) -> str:
    return "met" if ratio >= target else "**missed**"


def _version(dist: str) -> str:
    python = PEER_PYTHON if dist == "mlflow" else sys.executable
    code = f"from importlib.metadata import version; print(version({dist!r}))"
    return subprocess.run(
        [python, "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


def _lost(figures: dict[str, Any]) -> list[str]:
    problems = []
    for tool in ("sluice", "mlflow"):
        one, many = figures[tool]["one_call"], figures[tool]["many_runs"]
        expected = {"runs": many["runs"], "params": many["runs"] * 10, "metrics": many["runs"] * 10}
        if one["stored"] != one["n"] or many["stored"] != expected:
            problems.append(
                f"{tool}: stored {one['stored']} / {many['stored']}, expected "
                f"{one['n']} / {expected}"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=100_000, help="sluice's metric values")
    parser.add_argument("--mlflow-values", type=int, default=10_000, help="MLflow's metric values")
    parser.add_argument("--runs", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per sluice part")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        tool, part, size, folder = args.child
        print(json.dumps(PARTS[(tool, part)](Path(folder), int(size))))
        return 0
    figures = measure(args)
    script = Path(sys.argv[0]).resolve().relative_to(ROOT)
    command = "python " + " ".join([str(script), *sys.argv[1:]])
    text = report(figures, command)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    problems = _lost(figures)
    for problem in problems:
        print(f"LOST ROWS: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
