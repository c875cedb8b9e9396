"""Data versioning speed: sluice's content hashing and profiling against `dvc add`.

Run from the repository root (dvc must be installed: pip install dvc, or the
``bench`` extra)::

    .venv/bin/python benchmarks/bench_data.py            # a ~1 GB CSV
    .venv/bin/python benchmarks/bench_data.py --size-mb 100

It writes a CSV of realistic mixed columns (row counter, timestamps, prices,
quantities with missing values, categories of several sizes, a high-cardinality
customer code, booleans) into a temporary folder, reads it once so every tool
starts from a warm page cache, then times, on the same file:

- sluice hashing alone: ``sluice.artifacts.hash_file`` (BLAKE3, all cores);
- sluice hashing + profiling: hash, parse, per-column profile and inferred schema;
- sluice ``add_version``: all of the above, plus copying the bytes into the
  artifact store (fsync) and recording the version;
- ``dvc add`` of the file in a fresh ``dvc init --no-scm`` repository.

The figures are printed as a Markdown table and written to
``benchmarks/results/data.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROWS_PER_CHUNK = 500_000
RESULTS = Path(__file__).parent / "results" / "data.md"


def make_csv(path: Path, size_mb: int) -> int:
    """Write chunks of synthetic sales records until the file reaches ``size_mb``; returns rows."""
    import numpy as np
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(42)
    stores = np.array([f"store-{i:03d}" for i in range(60)])
    products = np.array([f"SKU{i:05d}" for i in range(2_000)])
    channels = np.array(["web", "shop", "phone", "partner"])
    start = np.datetime64("2020-01-01T00:00:00", "s")
    rows = 0
    with pcsv.CSVWriter(
        str(path), _chunk(rng, 0, 1, stores, products, channels, start).schema
    ) as out:
        while path.stat().st_size < size_mb * 1_000_000:
            out.write_table(_chunk(rng, rows, ROWS_PER_CHUNK, stores, products, channels, start))
            rows += ROWS_PER_CHUNK
    return rows


def _chunk(
    rng: Any, first: int, n: int, stores: Any, products: Any, channels: Any, start: Any
) -> Any:
    import numpy as np
    import pyarrow as pa

    def with_missing(values: Any, share: float) -> Any:
        return pa.array(values, mask=rng.random(n) < share)

    return pa.table(
        {
            "order_id": np.arange(first, first + n, dtype=np.int64),
            "ordered_at": start
            + (np.arange(first, first + n) * 7 + rng.integers(0, 7, n)).astype("timedelta64[s]"),
            "store": rng.choice(stores, n),
            "product": rng.choice(products, n),
            "channel": rng.choice(channels, n, p=[0.5, 0.3, 0.15, 0.05]),
            "customer": np.char.add("C", rng.integers(0, 2_000_000, n).astype(str)),
            "quantity": with_missing(rng.poisson(3, n), 0.02),
            "unit_price": np.round(rng.lognormal(3, 1, n), 2),
            "discount": with_missing(np.round(rng.uniform(0, 0.3, n), 3), 0.4),
            "customer_age": with_missing(rng.integers(18, 90, n), 0.1),
            "is_member": rng.random(n) < 0.35,
            "rating": with_missing(np.round(rng.normal(4, 0.7, n), 1), 0.6),
        }
    )


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, float, Any]:
    """Best wall-clock seconds, the CPU seconds of that run, and the result."""
    best, cpu, result = float("inf"), 0.0, None
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), cpu_seconds()
        result = fn()
        wall = time.perf_counter() - began
        if wall < best:
            best, cpu = wall, cpu_seconds() - began_cpu
    return best, cpu, result


def sluice_hash(path: Path) -> str:
    from sluice.artifacts import hash_file

    return hash_file(path)


def sluice_hash_and_profile(path: Path) -> dict[str, Any]:
    from sluice.artifacts import hash_file
    from sluice.data.infer import schema_from_profile
    from sluice.data.profile import profile_table
    from sluice.data.read import read_arrow

    hash_file(path)
    profile = profile_table(read_arrow(path, dictionaries=True))
    schema_from_profile(profile)
    return profile


def sluice_add(path: Path, home: Path) -> Any:
    from sluice.data import add_version
    from sluice.workspace import Workspace

    ws = Workspace.at(home)
    try:
        return add_version(ws, path, "bench")
    finally:
        ws.close()


def dvc_add(path: Path, repo: Path) -> tuple[float, float]:
    peer_bin = Path(os.environ.get("BENCH_PEER_PYTHON", sys.executable)).parent
    dvc = shutil.which("dvc", path=str(peer_bin)) or shutil.which("dvc")
    if dvc is None:
        raise SystemExit("dvc is not installed: pip install dvc (make bench installs it)")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=repo, check=True, env=env)
    subprocess.run([dvc, "config", "core.check_update", "false"], cwd=repo, check=True, env=env)
    target = repo / path.name
    os.link(path, target)  # the same bytes, no copy
    began, began_cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    subprocess.run([dvc, "add", "-q", target.name], cwd=repo, check=True, env=env)
    return time.perf_counter() - began, cpu_seconds(resource.RUSAGE_CHILDREN) - began_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1000, help="size of the generated CSV")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the Markdown")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sluice-bench-data-") as tmp:
        folder = Path(tmp)
        csv = folder / "sales.csv"
        made, _, rows = timed(lambda: make_csv(csv, args.size_mb))
        mb = csv.stat().st_size / 1e6
        print(f"generated {csv.name}: {mb:,.0f} MB, {rows:,} rows in {made:.1f} s", flush=True)
        csv.read_bytes()  # warm the page cache for everyone
        import sluice.data  # noqa: F401 - imports are not what is measured

        figures: dict[str, tuple[float, float]] = {}
        t_hash, c_hash, _ = timed(lambda: sluice_hash(csv), repeat=3)
        figures["sluice content hash (BLAKE3)"] = (t_hash, c_hash)
        t_prof, c_prof, profile = timed(lambda: sluice_hash_and_profile(csv), repeat=2)
        figures["sluice hash + parse + profile + schema"] = (t_prof, c_prof)
        t_add, c_add, _ = timed(lambda: sluice_add(csv, folder / "home"))
        figures["sluice add_version (that, plus store the bytes and record)"] = (t_add, c_add)
        (folder / "dvc").mkdir()
        figures["dvc add (MD5, copy into its cache)"] = dvc_add(csv, folder / "dvc")
        for what, (wall, cpu) in figures.items():
            print(f"{what}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
    assert profile["n_rows"] == rows
    loads = (load_before, os.getloadavg()[0])
    table = report(mb, rows, figures, loads)
    print()
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table + "\n")
    print(f"\nwritten to {args.out}")


def report(
    mb: float, rows: int, figures: dict[str, tuple[float, float]], loads: tuple[float, float]
) -> str:
    from importlib.metadata import version

    (t_hash, _), (t_prof, c_prof), _, (t_dvc, _) = figures.values()
    cores = os.cpu_count() or 1
    lines = [
        "## Data versioning: sluice vs dvc add",
        "",
        f"A {mb:,.0f} MB CSV ({rows:,} rows, 12 mixed columns), warm page cache, {cores} cores, "
        f"Python {platform.python_version()}, dvc {version('dvc')}, pyarrow {version('pyarrow')}, "
        f"blake3 {version('blake3')}. Load average {loads[0]:.1f} before, {loads[1]:.1f} after "
        "(other work on the machine slows every row alike; CPU seconds are less sensitive).",
        "Command: `.venv/bin/python benchmarks/bench_data.py`",
        "",
        "| what | wall s | MB/s | CPU s | speed vs dvc add |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for what, (wall, cpu) in figures.items():
        lines.append(
            f"| {what} | {wall:.2f} | {mb / wall:,.0f} | {cpu:.2f} | {t_dvc / wall:.1f}x |"
        )
    ideal = mb / (c_prof / cores)
    lines += [
        "",
        f"Targets: hashing at least 3x faster than dvc add: {t_dvc / t_hash:.1f}x "
        f"({'met' if t_dvc / t_hash >= 3 else 'NOT met'}); hashing + profiling over 100 MB/s: "
        f"{mb / t_prof:,.0f} MB/s wall ({'met' if mb / t_prof > 100 else 'NOT met'}); "
        f"{ideal:,.0f} MB/s if its CPU seconds were spread over {cores} idle cores.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
