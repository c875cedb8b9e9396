"""Serving, side by side with ``mlflow models serve`` of the same scikit-learn model.

    .venv/bin/python benchmarks/bench_serving.py     # writes benchmarks/results/serving.md
    BENCH_PEER_PYTHON=benchmarks/.work/peers/bin/python .venv/bin/python benchmarks/bench_serving.py

The model: a 100-tree random forest (seed 0) on the bundled bike-sharing data,
trained the same way in each tool's own environment (same scikit-learn
version, same rows, same seed: the script checks that both servers answer the
same numbers). sluice serves it from its registry with ``sluice serve``, MLflow
from ``mlflow.sklearn.save_model`` with ``mlflow models serve --env-manager
local``. Each server runs alone, in its own process; the load comes from
another process on loopback (threads with keep-alive ``http.client``
connections), for a bounded time per measure:

(a) single-row requests at concurrency 1: p50 and p99 latency, requests/s;
(b) single-row requests at concurrency 16: requests/s, p50 and p99;
(c) one 1,000-row request, repeated: median latency;
(d) the bare ``model.predict`` of one row, timed in the load process right
    after each request of (a), so (a)'s p50 minus (d)'s is the server's overhead
    measured over the same seconds (the same forest: same data, seed and
    scikit-learn version);
(e) for sluice, which reports its model call in a ``Server-Timing`` header, the
    overhead of each request of (a) over the ``predict`` that answered it: the
    client's latency minus the server's own model call, median over the requests.
    This is the overhead without the noise of timing the model in two processes
    (on two cores shared with the load, the same ``predict`` varies by a
    millisecond or more between processes).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "serving.md"
DATA = ROOT / "sluice" / "datasets" / "bike_sharing_hour.csv.gz"
PEER_PYTHON = os.environ.get("BENCH_PEER_PYTHON", sys.executable)
QUIET_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PYTHONWARNINGS": "ignore"}
FEATURES = [
    "season", "mnth", "hr", "holiday", "weekday", "workingday", "weathersit",
    "temp", "atemp", "hum", "windspeed",
]  # fmt: skip
TARGET_THROUGHPUT = 5.0
TARGET_OVERHEAD_MS = 1.0


# -- the model, built the same way in either environment -------------------------------


def train() -> tuple[Any, Any]:
    """The forest and the frame it was trained on (numeric features only, so both
    tools take the same JSON)."""
    import pandas as pd
    from sklearn.ensemble import RandomForestRegressor

    frame = pd.read_csv(DATA)
    X = frame[FEATURES].astype("float64")
    model = RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=1)
    model.fit(X, frame["cnt"])
    return model, X


def bare_predict_ms(model: Any, X: Any, repeat: int = 300) -> float:
    row = X.iloc[[123]]
    model.predict(row)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        model.predict(row)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def prepare_sluice(folder: Path) -> dict[str, Any]:
    from sluice.models.persistence import dumps
    from sluice.models.signature import infer_signature
    from sluice.registry import register_version
    from sluice.workspace import Workspace

    model, X = train()
    ws = Workspace.at(folder)
    register_version(
        ws,
        "bench-forest",
        model_bytes=dumps(model),
        signature=infer_signature(X, model, task="regression"),
        params={"n_estimators": 100},
        metrics={},
    )
    ws.close()
    return {"bare_ms": bare_predict_ms(model, X), "sklearn": _sklearn_version()}


def prepare_mlflow(folder: Path) -> dict[str, Any]:
    import mlflow
    import mlflow.sklearn

    model, X = train()
    mlflow.sklearn.save_model(
        model,
        str(folder / "model"),
        input_example=X.iloc[:2],
        skops_trusted_types=["sklearn.tree._tree.Tree"],
    )
    return {
        "bare_ms": bare_predict_ms(model, X),
        "sklearn": _sklearn_version(),
        "mlflow": mlflow.__version__,
    }


def _sklearn_version() -> str:
    import sklearn

    return str(sklearn.__version__)


# -- servers ------------------------------------------------------------------------------


def start_server(tool: str, folder: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, **QUIET_ENV, "OMP_NUM_THREADS": "1"}
    if tool == "sluice":
        env["SLUICE_HOME"] = str(folder)
        cmd = [sys.executable, "-m", "sluice", "serve", "models:/bench-forest@champion"]
        cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    else:
        mlflow = str(Path(PEER_PYTHON).with_name("mlflow"))
        # MLflow starts `uvicorn` by name: its environment's scripts must be on PATH.
        env["PATH"] = f"{Path(PEER_PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"
        cmd = [mlflow, "models", "serve", "-m", str(folder / "model"), "--env-manager", "local"]
        cmd += ["-h", "127.0.0.1", "-p", str(port), "--workers", str(workers)]
    log = (folder / f"{tool}-server.log").open("wb")
    process = subprocess.Popen(
        cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    ready = "/ready" if tool == "sluice" else "/ping"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{tool} server exited; see {folder / f'{tool}-server.log'}")
        try:
            if _request(port, "GET", ready, b"")[0] == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{tool} server not ready within 180 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _request(port: int, method: str, path: str, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def payload(tool: str, rows: list[dict[str, float]]) -> tuple[str, bytes]:
    if tool == "sluice":
        return "/predict", json.dumps({"records": rows}).encode()
    return "/invocations", json.dumps({"dataframe_records": rows}).encode()


def predictions_of(tool: str, body: bytes) -> list[float]:
    data = json.loads(body)
    return [float(v) for v in data["predictions"]]


# -- load -----------------------------------------------------------------------------------


def load(tool: str, port: int, rows: list[dict[str, float]], concurrency: int, seconds: float):
    """Requests of one row each from ``concurrency`` threads for ``seconds``."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        i = k
        while time.monotonic() < stop:
            path, body = payload(tool, [rows[i % len(rows)]])
            i += concurrency
            started = time.perf_counter()
            try:
                conn.request("POST", path, body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if ok:
                mine.append(time.perf_counter() - started)
            else:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "per_second": len(latencies) / elapsed,
        "p50_ms": _quantile(latencies, 0.5) * 1000,
        "p99_ms": _quantile(latencies, 0.99) * 1000,
    }


def batch_ms(tool: str, port: int, rows: list[dict[str, float]], repeat: int) -> float:
    path, body = payload(tool, rows[:1000])
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        status, _ = _request(port, "POST", path, body)
        if status != 200:
            raise RuntimeError(f"{tool}: the 1,000-row request failed with {status}")
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def load_child(tool: str, port: int, seconds: float, concurrency: int) -> dict[str, Any]:
    import csv
    import gzip

    with gzip.open(DATA, "rt") as f:
        rows = [{k: float(r[k]) for k in FEATURES} for r in csv.DictReader(f)]
    path, body = payload(tool, rows[:5])
    status, answer = _request(port, "POST", path, body)
    if status != 200:
        raise RuntimeError(f"{tool}: a 5-row request failed with {status}: {answer[:300]!r}")
    out: dict[str, Any] = {"check": predictions_of(tool, answer)}
    load(tool, port, rows, concurrency, min(2.0, seconds))  # warm up
    if concurrency == 1:
        out["load"], out["bare_ms"] = interleaved(tool, port, rows, seconds)
        out["batch_ms"] = batch_ms(tool, port, rows, 10)
    else:
        out["load"] = load(tool, port, rows, concurrency, seconds)
    return out


def interleaved(
    tool: str, port: int, rows: list[dict[str, float]], seconds: float
) -> tuple[dict[str, Any], float]:
    """Concurrency 1, each request followed by a bare ``predict`` of the same row in this
    process: both medians are taken over the same seconds of the same machine, so the
    difference is the server's overhead, not the noise between two runs."""
    import pandas as pd

    model, _ = train()
    frames = [pd.DataFrame([row]) for row in rows[:500]]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, bare, overheads, apps = [], [], [], []
    errors = 0
    started = time.perf_counter()
    stop = time.monotonic() + seconds
    i = 0
    while time.monotonic() < stop:
        path, body = payload(tool, [rows[i % 500]])
        t0 = time.perf_counter()
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        t1 = time.perf_counter()
        model.predict(frames[i % 500])
        t2 = time.perf_counter()
        if response.status == 200:
            latencies.append(t1 - t0)
            timing = server_timing(response.getheader("server-timing", ""))
            if "predict" in timing:
                overheads.append((t1 - t0) * 1000 - timing["predict"])
                apps.append(timing["app"] - timing["predict"])
        else:
            errors += 1
        bare.append(t2 - t1)
        i += 1
    conn.close()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return (
        {
            "requests": len(latencies),
            "errors": errors,
            "per_second": len(latencies) / elapsed,
            "p50_ms": _quantile(latencies, 0.5) * 1000,
            "p99_ms": _quantile(latencies, 0.99) * 1000,
            "overhead_ms": statistics.median(overheads) if overheads else None,
            "in_app_ms": statistics.median(apps) if apps else None,
        },
        statistics.median(bare) * 1000,
    )


def server_timing(header: str) -> dict[str, float]:
    """``predict;dur=6.6, app;dur=7.1`` as {"predict": 6.6, "app": 7.1} (milliseconds)."""
    out = {}
    for part in filter(None, (p.strip() for p in header.split(","))):
        name, _, rest = part.partition(";")
        if rest.startswith("dur="):
            out[name] = float(rest.removeprefix("dur="))
    return out


# -- plumbing ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child(python: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [python, __file__, "--child", *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **QUIET_ENV, "OMP_NUM_THREADS": "1"},
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {"load": os.getloadavg()[0], "seconds": args.seconds}
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        for tool, python in (("sluice", sys.executable), ("mlflow", PEER_PYTHON)):
            folder = Path(tmp) / tool
            folder.mkdir()
            print(f"{tool}: training and saving the forest...", file=sys.stderr)
            figures[tool] = {"prepare": _child(python, "prepare", tool, str(folder))}
            for workers in args.workers:
                port = _free_port()
                print(f"{tool}: serving with {workers} worker(s)...", file=sys.stderr)
                server = start_server(tool, folder, port, workers)
                try:
                    for concurrency in (1, 16) if workers == 1 else (16,):
                        key = f"w{workers}c{concurrency}"
                        print(f"  concurrency {concurrency}, {args.seconds} s", file=sys.stderr)
                        figures[tool][key] = _child(
                            sys.executable,
                            "load",
                            tool,
                            str(port),
                            str(args.seconds),
                            str(concurrency),
                        )
                finally:
                    stop_server(server)
    a, b = figures["sluice"]["w1c1"]["check"], figures["mlflow"]["w1c1"]["check"]
    figures["same_answers"] = all(abs(x - y) < 1e-6 for x, y in zip(a, b, strict=True))
    return figures


def report(f: dict[str, Any], command: str) -> str:
    s, m = f["sluice"], f["mlflow"]
    sp, mp = s["prepare"], m["prepare"]

    def row(label: str, key: str, field: str, fmt: str, higher_better: bool) -> str:
        a, b = s[key]["load"][field], m[key]["load"][field]
        ratio = a / b if higher_better else b / a
        return f"| {label} | {a:{fmt}} | {b:{fmt}} | {ratio:.1f}× |"

    c16 = s["w1c16"]["load"]["per_second"] / m["w1c16"]["load"]["per_second"]
    overhead = s["w1c1"]["load"]["p50_ms"] - s["w1c1"]["bare_ms"]
    mlflow_overhead = m["w1c1"]["load"]["p50_ms"] - m["w1c1"]["bare_ms"]
    lines = [
        "## Serving: sluice and `mlflow models serve` side by side",
        "",
        f"Command: `{command}` (`make bench` runs MLflow from its own virtual environment)  ",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (load average {f['load']:.1f} at the start); "
        f"MLflow {mp.get('mlflow')}, scikit-learn {sp['sklearn']} (sluice) and {mp['sklearn']} "
        f"(MLflow). Model: 100-tree random forest on the bike-sharing data, 11 numeric inputs. "
        f"Load from a separate process on loopback, {f['seconds']:.0f} s per measure after a "
        f"warm-up; both servers gave the same predictions: {'yes' if f['same_answers'] else 'NO'}.",
        "",
        "| measure | sluice | MLflow | sluice better by |",
        "| --- | ---: | ---: | ---: |",
        row("(a) concurrency 1, 1 worker: p50 ms", "w1c1", "p50_ms", ".2f", False),
        row("(a) concurrency 1, 1 worker: p99 ms", "w1c1", "p99_ms", ".2f", False),
        row("(a) concurrency 1, 1 worker: requests/s", "w1c1", "per_second", ",.0f", True),
        row("(b) concurrency 16, 1 worker: requests/s", "w1c16", "per_second", ",.0f", True),
        row("(b) concurrency 16, 1 worker: p50 ms", "w1c16", "p50_ms", ".1f", False),
        row("(b) concurrency 16, 1 worker: p99 ms", "w1c16", "p99_ms", ".1f", False),
    ]
    if "w2c16" in s and "w2c16" in m:
        lines.append(
            row("(b) concurrency 16, 2 workers: requests/s", "w2c16", "per_second", ",.0f", True)
        )
    lines += [
        f"| (c) one 1,000-row request, ms | {s['w1c1']['batch_ms']:.1f} | "
        f"{m['w1c1']['batch_ms']:.1f} | {m['w1c1']['batch_ms'] / s['w1c1']['batch_ms']:.1f}× |",
        f"| (d) bare `model.predict` of one row beside (a), ms | {s['w1c1']['bare_ms']:.2f} | "
        f"{m['w1c1']['bare_ms']:.2f} | |",
        f"| (a) − (d): the server's p50 overhead, ms | {overhead:.2f} | {mlflow_overhead:.2f} | "
        f"{mlflow_overhead / overhead:.1f}× |"
        if overhead > 0
        else f"| (a) − (d): the server's p50 overhead, ms | {overhead:.2f} | "
        f"{mlflow_overhead:.2f} | |",
    ]
    per_request = s["w1c1"]["load"].get("overhead_ms")
    if per_request is not None:
        lines += [
            f"| (e) per request of (a): latency − the server's own `predict` (Server-Timing), "
            f"p50 ms | {per_request:.2f} | | |",
            f"| … of which inside the app (parse, frame, batcher, JSON), p50 ms | "
            f"{s['w1c1']['load']['in_app_ms']:.2f} | | |",
        ]
    judged = per_request if per_request is not None else overhead
    lines += [
        "",
        f"Targets: throughput at concurrency 16 at least {TARGET_THROUGHPUT:.0f}× MLflow's: "
        f"{c16:.1f}× ({'met' if c16 >= TARGET_THROUGHPUT else 'NOT met'}); p50 overhead over "
        f"the bare predict under {TARGET_OVERHEAD_MS:.0f} ms: {judged:.2f} ms per request (e) "
        f"({'met' if judged < TARGET_OVERHEAD_MS else 'NOT met'}); {overhead:.2f} ms against "
        "the load process's own predict (d).",
        "",
        "Errors during the load: "
        + ", ".join(
            f"{tool} {key} {f[tool][key]['load']['errors']}"
            for tool in ("sluice", "mlflow")
            for key in f[tool]
            if key.startswith("w")
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        what, tool, *rest = sys.argv[2:]
        if what == "prepare":
            folder = Path(rest[0])
            out = prepare_sluice(folder) if tool == "sluice" else prepare_mlflow(folder)
        else:
            out = load_child(tool, int(rest[0]), float(rest[1]), int(rest[2]))
        print(json.dumps(out))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="Load time per measure.")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    figures = measure(args)
    text = report(figures, " ".join(["python benchmarks/bench_serving.py", *sys.argv[1:]]))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
