"""Pipeline overhead: a chain of 200 trivial steps, cold and fully cached, on SQLite.

    .venv/bin/python benchmarks/bench_pipeline.py            # writes benchmarks/results/pipeline.md

A module with 200 distinct steps (``s0`` … ``s199``, each ``return x + 1``) and a
pipeline chaining them is written to a temporary folder. In a fresh process with a
fresh SQLite workspace in a temporary folder we time:

(a) the cold run: every step runs, its output goes to the artifact store, its
    records to the store; this includes fingerprinting the code of each step;
(b) a second, fully cached run in the same process (code fingerprints are cached
    per process);
(c) a fully cached run in another fresh process: fingerprints computed again, every
    step found in the store's cache.

The clock covers ``Pipeline.run`` only (not interpreter start, imports or opening
the workspace). Each part is repeated (``--repeat``) in new folders and the median
reported. Target from issue 2: under 10 ms per cached step.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "pipeline.md"
TARGET_MS = 10.0


def chain_source(n: int) -> str:
    lines = ["from sluice.pipelines import pipeline, step", ""]
    for i in range(n):
        lines += ["@step", f"def s{i}(x: int) -> int:", "    return x + 1", ""]
    lines += ["@pipeline", "def chain(start: int = 0):", "    x = start"]
    lines += [f"    x = s{i}(x)" for i in range(n)]
    return "\n".join(lines) + "\n"


def child(folder: str, runs: int) -> None:
    """Run the chain ``runs`` times in this process; print the seconds of each run."""
    sys.path.insert(0, folder)
    import chain_steps  # type: ignore[import-not-found]

    from sluice.workspace import Workspace

    ws = Workspace.at(Path(folder) / "home")
    times, cached = [], []
    for _ in range(runs):
        start = time.perf_counter()
        run = chain_steps.chain.run(ws)
        times.append(time.perf_counter() - start)
        cached.append(run.cache_hits)
    print(json.dumps({"seconds": times, "cached": cached, "steps": len(run.steps)}))


def measure(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="sluice-bench-pipeline-") as folder:
        (Path(folder) / "chain_steps.py").write_text(chain_source(n), encoding="utf-8")
        first = _spawn(folder, 2)
        second = _spawn(folder, 1)
    assert first["steps"] == n and first["cached"] == [0, n] and second["cached"] == [n]
    return {
        "cold": first["seconds"][0],
        "cached_warm": first["seconds"][1],
        "cached_fresh": second["seconds"][0],
    }


def _spawn(folder: str, runs: int) -> dict:
    cmd = [sys.executable, __file__, "--child", folder, "--runs", str(runs)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def report(n: int, samples: list[dict[str, float]]) -> str:
    med = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    rows = [
        ("cold run (every step executes)", med["cold"]),
        ("fully cached, same process", med["cached_warm"]),
        ("fully cached, fresh process", med["cached_fresh"]),
    ]
    worst_cached = max(med["cached_warm"], med["cached_fresh"]) * 1000 / n
    verdict = "met" if worst_cached < TARGET_MS else "NOT met"
    lines = [
        "## Pipeline overhead",
        "",
        f"Chain of {n} trivial steps on an SQLite workspace in a temporary folder; "
        f"median of {len(samples)} repetitions; {platform.machine()}, Python "
        f"{platform.python_version()}.",
        "Command: `.venv/bin/python benchmarks/bench_pipeline.py`",
        "",
        "| run | total | per step |",
        "| --- | ---: | ---: |",
        *[f"| {name} | {secs:.2f} s | {secs * 1000 / n:.2f} ms |" for name, secs in rows],
        "",
        f"Target: under {TARGET_MS:.0f} ms per cached step — {verdict} "
        f"(worst cached case {worst_cached:.2f} ms per step).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.runs)
        return
    samples = [measure(args.steps) for _ in range(args.repeat)]
    text = report(args.steps, samples)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
