"""Drift at scale: sluice's dataset_drift against Evidently's DataDriftPreset and a bare SciPy loop.

Run from the repository root::

    .venv/bin/python benchmarks/bench_drift.py                  # 1,000,000 rows x 25 columns
    .venv/bin/python benchmarks/bench_drift.py --rows 100000    # a quicker look
    .venv/bin/python benchmarks/bench_drift.py --evidently-rows 100000   # Evidently on fewer rows

Evidently 0.7.23 does not import under pandas 3, so it runs from a virtual
environment of its own (``make bench`` creates it)::

    python3 -m venv benchmarks/.work/evidently
    benchmarks/.work/evidently/bin/pip install evidently==0.7.23 'pandas<3' pyarrow

Seeded synthetic windows (reference and current, 25 columns: 20 numeric, 5
categorical, some drift in a few) are written once to Parquet under
``benchmarks/.work/drift/``. Every contender then runs in a fresh process of its
own, reads the same files and reports its wall time (best of ``--repeat``; one
run for Evidently) and its peak resident memory while computing, read from
``/proc/self/status`` after resetting the peak once the data is loaded:

- sluice: ``sluice.monitoring.dataset_drift`` (KS, normalized Wasserstein, PSI per
  numeric column; chi-squared, Jensen-Shannon, PSI per categorical one);
- SciPy loop: ``scipy.stats.ks_2samp`` + a NumPy PSI per numeric column,
  ``scipy.stats.chi2_contingency`` + PSI per categorical one, nothing else;
- SciPy loop, all of sluice's statistics: the same plus ``wasserstein_distance``
  and Jensen-Shannon, so that it computes what sluice computes;
- Evidently: ``Report([DataDriftPreset()]).run(current, reference)``.

A contender that runs past ``--timeout`` seconds is stopped and reported as
such; when Evidently times out on the full size, it is tried once more on
``--fallback-rows`` rows. The table is printed and written to
``benchmarks/results/drift.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
RESULTS = HERE / "results" / "drift.md"
EVIDENTLY_PYTHON = WORK / "evidently" / "bin" / "python"
DATA_VERSION = 1  # bump when the generator changes, so old files are not reused
SEED = 20261203

NUMERIC = [
    "age",
    "income",
    "balance",
    "tenure_months",
    "n_orders",
    "basket_value",
    "discount",
    "session_minutes",
    "pages_viewed",
    "latency_ms",
    "temperature",
    "rating",
    "latitude",
    "longitude",
    "return_rate",
    "days_since_last",
    "credit_limit",
    "clicks",
    "conversion_ratio",
    "sensor",
]
CATEGORICAL = ["country", "channel", "device", "plan", "product"]
DRIFTING = ["basket_value", "session_minutes", "latency_ms", "discount", "channel", "product"]


# --------------------------------------------------------------------------- the data


def make_window(rows: int, drifted: bool, seed: int) -> Any:
    """One window as a pyarrow Table; ``drifted`` moves the columns in DRIFTING."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    shift = 1.0 if drifted else 0.0

    def missing(values: Any, share: float) -> Any:
        return pa.array(values, mask=rng.random(rows) < share)

    sessions = rng.poisson(3, rows)
    orders = rng.binomial(sessions, 0.3)
    with np.errstate(divide="ignore", invalid="ignore"):
        conversion = orders / sessions  # 0/0 is NaN, k/0 never happens; keep a few inf
    conversion[rng.random(rows) < 0.001] = np.inf
    countries = np.array([f"C{i:02d}" for i in range(40)])
    country_p = 1.0 / np.arange(1, 41) ** 1.1
    channels = np.array(["web", "app", "store", "partner"])
    channel_p = [0.35, 0.35, 0.2, 0.1] if drifted else [0.5, 0.3, 0.15, 0.05]
    n_products = 5_200 if drifted else 5_000  # new SKUs appear in the current window
    product_ids = np.minimum(rng.zipf(1.3, rows), n_products)
    columns = {
        "age": missing(rng.integers(18, 90, rows).astype(float), 0.02),
        "income": rng.lognormal(10.5, 0.6, rows),
        "balance": rng.normal(5_000, 2_000, rows),
        "tenure_months": rng.integers(0, 121, rows),
        "n_orders": orders,
        "basket_value": rng.lognormal(3.5 + 0.3 * shift, 0.8, rows),
        "discount": missing(np.round(rng.uniform(0, 0.3, rows), 3), 0.30 + 0.15 * shift),
        "session_minutes": rng.exponential(12 * (1 + 0.5 * shift), rows),
        "pages_viewed": rng.poisson(7, rows),
        "latency_ms": rng.gamma(2, 50, rows) + 40 * shift,
        "temperature": np.round(rng.normal(15, 8, rows), 1),
        "rating": missing(np.clip(np.round(rng.normal(4, 0.7, rows), 1), 1, 5), 0.5),
        "latitude": rng.uniform(35, 60, rows),
        "longitude": rng.uniform(-10, 30, rows),
        "return_rate": rng.beta(2, 20, rows),
        "days_since_last": rng.geometric(0.05, rows),
        "credit_limit": rng.choice([1_000.0, 2_000.0, 5_000.0, 10_000.0], rows),
        "clicks": rng.negative_binomial(3, 0.2, rows),
        "conversion_ratio": conversion,
        "sensor": rng.standard_t(5, rows),
        "country": rng.choice(countries, rows, p=country_p / country_p.sum()),
        "channel": rng.choice(channels, rows, p=channel_p),
        "device": rng.choice(["mobile", "desktop", "tablet"], rows, p=[0.6, 0.3, 0.1]),
        "plan": rng.choice(["free", "basic", "plus", "pro", "team", "enterprise"], rows),
        "product": np.char.add("SKU", product_ids.astype(str)),
    }
    return pa.table(columns)


def ensure_data(rows: int) -> Path:
    """Write the two windows once; later runs reuse them."""
    import pyarrow.parquet as pq

    folder = WORK / "drift" / f"v{DATA_VERSION}-rows-{rows}"
    done = folder / "done"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    for name, drifted, seed in (("reference", False, SEED), ("current", True, SEED + 1)):
        pq.write_table(make_window(rows, drifted, seed), folder / f"{name}.parquet")
    done.write_text("ok\n")
    print(f"generated {rows:,} rows x 2 windows in {time.perf_counter() - began:.1f} s", flush=True)
    return folder


# --------------------------------------------------------------------------- the contenders
# Each runs in a child process: ``prepare`` imports what it needs (not timed),
# ``run`` computes and returns {column: {"drifted": bool, "ks": float | None}}.


def _sluice_prepare() -> Any:
    import scipy.stats  # noqa: F401 - sluice imports it on first use; imports are not measured

    from sluice.monitoring import dataset_drift

    return dataset_drift


def _sluice_run(dataset_drift: Any, reference: Any, current: Any) -> dict[str, Any]:
    result = dataset_drift(reference, current)
    return {
        c.column: {"drifted": c.drifted, "ks": c.statistic if c.kind == "numeric" else None}
        for c in result.columns
    }


def _scipy_prepare() -> Any:
    import scipy.stats

    return scipy.stats


def _numpy_psi(ref_counts: Any, cur_counts: Any) -> float:
    import numpy as np

    ref = np.maximum(ref_counts / ref_counts.sum(), 1e-4)
    cur = np.maximum(cur_counts / cur_counts.sum(), 1e-4)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _scipy_loop(stats: Any, reference: Any, current: Any, everything: bool) -> dict[str, Any]:
    """The bare loop a user would write: per column, SciPy's tests and a NumPy PSI."""
    import numpy as np
    import pandas as pd
    from scipy.spatial.distance import jensenshannon

    out: dict[str, Any] = {}
    large = min(len(reference), len(current)) > 1000
    for name in reference.columns:
        ref_col, cur_col = reference[name], current[name]
        if pd.api.types.is_numeric_dtype(ref_col.dtype):
            ref = ref_col.to_numpy(dtype=float, na_value=np.nan)
            cur = cur_col.to_numpy(dtype=float, na_value=np.nan)
            ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
            ks = stats.ks_2samp(ref, cur)
            edges = np.quantile(ref, np.linspace(0, 1, 11)[1:-1])
            ref_counts = np.bincount(np.searchsorted(edges, ref), minlength=10)
            cur_counts = np.bincount(np.searchsorted(edges, cur), minlength=10)
            psi = _numpy_psi(ref_counts, cur_counts)
            drifted = bool(ks.pvalue < 0.05)
            if everything:
                distance = stats.wasserstein_distance(ref, cur) / np.std(ref)
                drifted = bool(distance > 0.1) if large else drifted
            out[name] = {"drifted": drifted, "ks": float(ks.statistic), "psi": psi}
        else:
            counts = pd.concat(
                [ref_col.value_counts(), cur_col.value_counts()], axis=1, sort=False
            ).fillna(0.0)
            table = counts.to_numpy(dtype=float).T
            chi2 = stats.chi2_contingency(table, correction=False)
            psi = _numpy_psi(table[0], table[1])
            drifted = bool(chi2.pvalue < 0.05)
            if everything:
                ref_p, cur_p = table[0] / table[0].sum(), table[1] / table[1].sum()
                distance = float(jensenshannon(ref_p, cur_p, base=2))
                drifted = bool(distance > 0.1) if large else drifted
            out[name] = {"drifted": drifted, "ks": None, "psi": psi}
    return out


def _scipy_run(stats: Any, reference: Any, current: Any) -> dict[str, Any]:
    return _scipy_loop(stats, reference, current, everything=False)


def _scipy_all_run(stats: Any, reference: Any, current: Any) -> dict[str, Any]:
    return _scipy_loop(stats, reference, current, everything=True)


def _evidently_prepare() -> Any:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    return DataDefinition, Dataset, Report, DataDriftPreset


def _evidently_run(tools: Any, reference: Any, current: Any) -> dict[str, Any]:
    data_definition, dataset, report, preset = tools
    definition = data_definition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    ref = dataset.from_pandas(reference, data_definition=definition)
    cur = dataset.from_pandas(current, data_definition=definition)
    snapshot = report([preset()]).run(cur, ref)
    out: dict[str, Any] = {}
    for item in snapshot.dict()["metrics"]:
        config = item.get("config", {})
        if str(config.get("type", "")).endswith("ValueDrift"):
            score, threshold = float(item["value"]), float(config["threshold"])
            is_p_value = "p_value" in str(config.get("method"))
            drifted = score < threshold if is_p_value else score >= threshold
            out[str(config["column"])] = {"drifted": drifted, "ks": None, "score": score}
    return out


CONTENDERS: dict[str, tuple[str, Callable[[], Any], Callable[..., dict[str, Any]]]] = {
    "sluice": ("sluice `dataset_drift`", _sluice_prepare, _sluice_run),
    "scipy": ("SciPy loop (ks_2samp + PSI; chi2 + PSI)", _scipy_prepare, _scipy_run),
    "scipy_all": (
        "SciPy loop, sluice's statistics (+ Wasserstein, Jensen-Shannon)",
        _scipy_prepare,
        _scipy_all_run,
    ),
    "evidently": ("Evidently `DataDriftPreset`", _evidently_prepare, _evidently_run),
}


# --------------------------------------------------------------------------- measuring


def _status(field: str) -> int:
    """A field of /proc/self/status in bytes (VmRSS now, VmHWM the peak)."""
    text = Path("/proc/self/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) * 1024 if found else 0


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+), so the peak is the computation's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def child(name: str, folder: Path, repeat: int) -> None:
    """Run one contender in this process and print its figures as one JSON line."""
    import pandas as pd

    _, prepare, run = CONTENDERS[name]
    tool = prepare()
    import pyarrow  # loaded by read_parquet anyway; counted before the data

    rss_start = _status("VmRSS")
    began = time.perf_counter()
    reference = pd.read_parquet(folder / "reference.parquet")
    current = pd.read_parquet(folder / "current.parquet")
    load_s = time.perf_counter() - began
    pyarrow.default_memory_pool().release_unused()  # the Parquet reader's buffers, not data
    data_bytes = int(
        reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum()
    )
    load_peak = _status("VmHWM")
    rss_before = _status("VmRSS")
    reset = _reset_peak()
    times, summary = [], {}
    cpu = []
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        summary = run(tool, reference, current)
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    figures = {
        "name": name,
        "times": times,
        "cpu": cpu,
        "load_s": load_s,
        "data_bytes": data_bytes,
        "rss_start": rss_start,
        "rss_before": rss_before,
        "peak": _status("VmHWM"),
        "peak_is_compute_only": reset,
        "load_peak": load_peak,
        "rows": len(reference),
        "pandas": pd.__version__,
        "columns": summary,
    }
    print("RESULT " + json.dumps(figures), flush=True)


def spawn(name: str, python: Path, folder: Path, repeat: int, timeout: float) -> dict[str, Any]:
    """Run ``child`` in a fresh process; {"error": ...} when it fails or times out."""
    command = [str(python), str(Path(__file__).resolve()), "--child", name, "--data", str(folder)]
    command += ["--repeat", str(repeat)]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    began = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return {"name": name, "error": f"stopped after the {timeout:.0f} s timeout"}
    wall = time.perf_counter() - began
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return {**json.loads(line.removeprefix("RESULT ")), "process_s": wall}
    tail = " | ".join(err.strip().splitlines()[-3:])
    return {"name": name, "error": f"exit {process.returncode}: {tail}"}


# --------------------------------------------------------------------------- the report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in each window")
    parser.add_argument("--evidently-rows", type=int, help="rows for Evidently (default --rows)")
    parser.add_argument("--fallback-rows", type=int, default=100_000, help="Evidently's retry")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per contender")
    parser.add_argument("--repeat", type=int, default=3, help="runs of sluice and SciPy")
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the Markdown")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.repeat)
        return

    load_before = os.getloadavg()[0]
    folder = ensure_data(args.rows)
    runs: dict[str, dict[str, Any]] = {}
    for name in ("sluice", "scipy", "scipy_all"):
        print(f"== {name} on {args.rows:,} rows", flush=True)
        runs[name] = spawn(name, Path(sys.executable), folder, args.repeat, args.timeout)
        print(_line(runs[name]), flush=True)
    evidently = os.environ.get("BENCH_EVIDENTLY_PYTHON", str(EVIDENTLY_PYTHON))
    notes: list[str] = []
    if args.skip_evidently:
        notes.append("Evidently skipped (--skip-evidently).")
    elif not Path(evidently).exists():
        notes.append(f"Evidently skipped: no {evidently}; `make bench` creates that environment.")
    else:
        for rows in dict.fromkeys([args.evidently_rows or args.rows, args.fallback_rows]):
            print(f"== evidently on {rows:,} rows (timeout {args.timeout:.0f} s)", flush=True)
            key = f"evidently_{rows}"
            runs[key] = spawn("evidently", Path(evidently), ensure_data(rows), 1, args.timeout)
            runs[key]["rows"] = rows
            print(_line(runs[key]), flush=True)
            if "error" not in runs[key]:
                break
            notes.append(f"Evidently on {rows:,} rows: {runs[key]['error']}.")
        if rows != args.rows and "error" not in runs[key]:
            runs.update(_smaller_peers(rows, args))
    loads = (load_before, os.getloadavg()[0])
    table = report(args, runs, notes, loads)
    print()
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table + "\n")
    print(f"\nwritten to {args.out}")


def _smaller_peers(rows: int, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """sluice on Evidently's smaller size too, so the two can be compared at one size."""
    print(f"== sluice on {rows:,} rows, for the comparison with Evidently", flush=True)
    run = spawn("sluice", Path(sys.executable), ensure_data(rows), args.repeat, args.timeout)
    print(_line(run), flush=True)
    return {f"sluice_{rows}": run}


def _line(run: dict[str, Any]) -> str:
    if "error" in run:
        return f"   {run['name']}: {run['error']}"
    return (
        f"   {run['name']}: best {min(run['times']):.2f} s of {len(run['times'])}, "
        f"peak {run['peak'] / 2**20:,.0f} MiB, data {run['data_bytes'] / 2**20:,.0f} MiB, "
        f"RSS {run['rss_start'] / 2**20:,.0f} MiB before loading, "
        f"{run['rss_before'] / 2**20:,.0f} MiB loaded"
    )


def report(
    args: argparse.Namespace,
    runs: dict[str, dict[str, Any]],
    notes: list[str],
    loads: tuple[float, float],
) -> str:
    from importlib.metadata import version

    ours = runs["sluice"]
    lines = [
        "## Drift at scale: sluice vs Evidently and a bare SciPy loop",
        "",
        f"Reference and current windows of {args.rows:,} rows x 25 columns each (20 numeric, "
        "5 categorical; seeded synthetic data with drift in "
        f"{len(DRIFTING)} columns: {', '.join(DRIFTING)}), read from Parquet. "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"NumPy {version('numpy')}, SciPy {version('scipy')}; sluice and the SciPy loop on "
        f"pandas {ours.get('pandas', '?')}, Evidently {_evidently_version()} on pandas "
        f"{_first(runs, 'evidently', 'pandas')} (its own environment). Each contender runs in "
        f"a fresh process; wall time is the best of {args.repeat} runs (Evidently: one run); "
        "peak is the process's resident memory while computing (data included), reset after "
        f"loading. Load average {loads[0]:.1f} before, {loads[1]:.1f} after.",
        "Command: `.venv/bin/python benchmarks/bench_drift.py"
        + (f" --rows {args.rows}" if args.rows != 1_000_000 else "")
        + (f" --evidently-rows {args.evidently_rows}" if args.evidently_rows else "")
        + "`",
        "",
        "| contender | rows | wall s | CPU s | time / sluice's | peak MiB | data MiB | "
        "peak / data |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs.values():
        lines.append(_row(run, runs))
    lines += ["", *_verdicts(args, runs), *notes, *_agreement(runs)]
    return "\n".join(lines)


def _row(run: dict[str, Any], runs: dict[str, dict[str, Any]]) -> str:
    label = CONTENDERS[run["name"]][0]
    rows = run.get("rows", 0)
    if "error" in run:
        return f"| {label} | {rows:,} | {run['error']} | | | | | |"
    best = min(run["times"])
    cpu = run["cpu"][run["times"].index(best)]
    same_size = _sluice_at(rows, runs)
    ratio = f"{best / same_size:,.1f}x" if same_size else ""
    return (
        f"| {label} | {rows:,} | {best:,.2f} | {cpu:,.2f} | {ratio} | "
        f"{run['peak'] / 2**20:,.0f} | {run['data_bytes'] / 2**20:,.0f} | "
        f"{run['peak'] / run['data_bytes']:.2f} |"
    )


def _sluice_at(rows: int, runs: dict[str, dict[str, Any]]) -> float | None:
    for run in runs.values():
        if run["name"] == "sluice" and run.get("rows") == rows and "error" not in run:
            return float(min(run["times"]))
    return None


def _verdicts(args: argparse.Namespace, runs: dict[str, dict[str, Any]]) -> list[str]:
    ours = runs["sluice"]
    if "error" in ours:
        return ["sluice failed; no targets checked."]
    best = min(ours["times"])
    scipy = runs.get("scipy", {})
    out = []
    if "error" not in scipy:
        ratio = best / min(scipy["times"])
        cpu_ratio = min(ours["cpu"]) / min(scipy["cpu"])
        out.append(
            f"Within 2x of the bare SciPy loop: {ratio:.2f}x its wall time, {cpu_ratio:.2f}x "
            f"its CPU time ({'met' if max(ratio, cpu_ratio) <= 2 else 'NOT met'})."
        )
    peak_ratio = ours["peak"] / ours["data_bytes"]
    out.append(
        f"Peak memory under 2x the data's size: {peak_ratio:.2f}x "
        f"({ours['peak'] / 2**20:,.0f} MiB for {ours['data_bytes'] / 2**20:,.0f} MiB of data, "
        f"{(ours['peak'] - ours['rss_before']) / 2**20:,.0f} MiB above the loaded process) "
        f"({'met' if peak_ratio < 2 else 'NOT met'})."
    )
    for run in runs.values():
        if run["name"] == "evidently" and "error" not in run:
            ours_there = _sluice_at(run["rows"], runs)
            if ours_there:
                speed = min(run["times"]) / ours_there
                out.append(
                    f"At least 10x faster than Evidently: {speed:,.1f}x on {run['rows']:,} rows "
                    f"({'met' if speed >= 10 else 'NOT met'})."
                )
    return [" ".join(out)]


def _agreement(runs: dict[str, dict[str, Any]]) -> list[str]:
    """Do the contenders flag the same columns? And does sluice's KS equal SciPy's?"""
    ours = runs["sluice"].get("columns", {})
    out = ["", "Drifted columns found by each contender:", ""]
    for run in runs.values():
        if "columns" in run:
            flagged = sorted(c for c, r in run["columns"].items() if r["drifted"])
            out.append(
                f"- {CONTENDERS[run['name']][0]} ({run['rows']:,} rows): {', '.join(flagged)}"
            )
    scipy = runs.get("scipy", {}).get("columns", {})
    gaps = [
        abs(ours[c]["ks"] - scipy[c]["ks"])
        for c in ours
        if ours[c]["ks"] is not None and scipy.get(c, {}).get("ks") is not None
    ]
    if gaps:
        out += [
            "",
            f"Largest difference between sluice's and SciPy's KS statistic: {max(gaps):.1e}.",
        ]
    return out


def _first(runs: dict[str, dict[str, Any]], name: str, field: str) -> str:
    for run in runs.values():
        if run["name"] == name and field in run:
            return str(run[field])
    return "?"


def _evidently_version() -> str:
    python = os.environ.get("BENCH_EVIDENTLY_PYTHON", str(EVIDENTLY_PYTHON))
    if not Path(python).exists():
        return "(not installed)"
    found = subprocess.run(
        [python, "-c", "from importlib.metadata import version; print(version('evidently'))"],
        capture_output=True,
        text=True,
    )
    return found.stdout.strip() or "?"


if __name__ == "__main__":
    main()
