"""Start-up time of the command line: ``sluice --help`` against ``mlflow --help``.

    python benchmarks/bench_cli.py      (make bench runs it with MLflow installed beside)

Each command runs 20 times in a fresh process; the table shows the median and the
slowest wall-clock time. Writes benchmarks/results/cli.md.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = 20
TARGET = 0.5


def timings(cmd: list[str]) -> list[float]:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    out = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    sluice = str(Path(sys.executable).parent / "sluice")
    peer_bin = Path(os.environ.get("BENCH_PEER_PYTHON", sys.executable)).parent
    mlflow = shutil.which("mlflow", path=str(peer_bin))
    rows = [("sluice --help", timings([sluice, "--help"]))]
    if mlflow:
        rows.append(("mlflow --help", timings([mlflow, "--help"])))
    load = os.getloadavg()[0]
    lines = [
        "## Command-line start-up",
        "",
        f"Wall-clock seconds of {RUNS} fresh processes each; load average {load:.1f} at the end.",
        "Command: `python benchmarks/bench_cli.py`",
        "",
        "| command | median s | slowest s |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| `{name}` | {statistics.median(t):.3f} | {max(t):.3f} |" for name, t in rows]
    median = statistics.median(rows[0][1])
    verdict = "met" if median < TARGET else "NOT met"
    lines += [
        "",
        f"Target: `sluice --help` well under {TARGET} s: median {median:.3f} s ({verdict}).",
    ]
    text = "\n".join(lines) + "\n"
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "cli.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
