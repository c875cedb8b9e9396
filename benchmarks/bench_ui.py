"""The dashboard with a long history: the runs page's first screen with 100,000 runs.

    .venv/bin/python benchmarks/bench_ui.py            # writes benchmarks/results/ui.md

A fresh SQLite store in a temporary folder gets ``--runs`` pipeline runs of ten steps
each (written directly with SQLAlchemy, as many runs would leave them: one run a
minute, some failed, some fully cached). ``sluice server`` then serves it on
loopback and we time, from a separate client, the HTML of: the first page of runs,
a page deep in the history, a status filter, and one run's page. Server time is
the request's wall time seen by the client on loopback (it includes HTTP on
loopback, which is well under a millisecond). Target from issue 5: the first
screen under 300 ms of server time with 100,000 runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "ui.md"
SLUICE = str(Path(sys.executable).with_name("sluice"))
TARGET_MS = 300.0
STEPS = ("version", "load", "validate", "clean", "split", "select", "evaluate", "compare",
         "gates", "register")  # fmt: skip


def fill(home: Path, n_runs: int) -> str:
    """``n_runs`` runs of ten steps each in the store at ``home``; the admin's token."""
    import sqlalchemy as sa

    from sluice.governance import add_user, create_token
    from sluice.store import tables as t
    from sluice.workspace import Workspace

    ws = Workspace.at(home)
    try:
        add_user(ws, "admin", "admin")
        _, token = create_token(ws, "admin")
        start = time.time() - n_runs * 60
        batch = 5_000
        origins: list[str] = []  # the steps a cached run reuses: the last full run's
        for first in range(0, n_runs, batch):
            runs, steps = [], []
            for i in range(first, min(first + batch, n_runs)):
                run_id = uuid.uuid4().hex
                created = start + i * 60
                status = "failed" if i % 50 == 0 else "completed"
                cached = i % 3 == 0
                runs.append(
                    {"id": run_id, "pipeline": "tabular", "status": status,
                     "params": {"seed": i % 7, "sample": None}, "executor": "local",
                     "created_at": created, "started_at": created,
                     "finished_at": created + 8.0}
                )  # fmt: skip
                cached = cached and bool(origins)
                ids = [uuid.uuid4().hex for _ in STEPS]
                for j, name in enumerate(STEPS):
                    steps.append(
                        {"id": ids[j], "pipeline_run_id": run_id, "step": name,
                         "cache_key": uuid.uuid4().hex, "attempts": 1,
                         "status": "cached" if cached else "completed",
                         "cached_from": origins[j] if cached else None,
                         "started_at": created + j, "finished_at": created + j + 0.8,
                         "duration": 0.8}
                    )  # fmt: skip
                if not cached:
                    origins = ids
            with ws.store.write() as conn:
                conn.execute(sa.insert(t.pipeline_runs), runs)
                conn.execute(sa.insert(t.step_runs), steps)
        return token
    finally:
        ws.close()


def timed(client: httpx.Client, path: str, repeat: int, expect: str) -> list[float]:
    warm = client.get(path)
    if warm.status_code != 200 or expect not in warm.text:
        raise SystemExit(f"{path} answered {warm.status_code} without {expect!r}")
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - begin) * 1000)
        response.raise_for_status()
    return times


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        began = time.perf_counter()
        token = fill(home, args.runs)
        filled = time.perf_counter() - began
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
        env["SLUICE_HOME"] = str(home)
        server = subprocess.Popen(
            [SLUICE, "server", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, cookies={"sluice_token": token}, timeout=60) as c:
                _wait(c)
                newest = c.get("/api/v1/runs?limit=1", headers={"Authorization": f"Bearer {token}"})
                run_id = newest.json()[0]["id"]
                deep = max(1, args.runs // 100)  # half-way through the history
                pages = {
                    "first page of runs (`/ui/runs`)": ("/ui/runs", "older →"),
                    f"page {deep:,} (`/ui/runs?page={deep}`)": (
                        f"/ui/runs?page={deep}",
                        "older →",
                    ),
                    "failed runs only (`/ui/runs?status=failed`)": (
                        "/ui/runs?status=failed",
                        "older →",
                    ),
                    "one run (`/ui/runs/ID`)": (f"/ui/runs/{run_id}", "register"),
                }
                rows = [
                    (label, timed(c, path, args.repeat, expect))
                    for label, (path, expect) in pages.items()
                ]
        finally:
            server.terminate()
            server.wait(timeout=30)
    load = os.getloadavg()[0]
    first = statistics.median(rows[0][1])
    lines = [
        "# Dashboard with a long history",
        "",
        f"{args.runs:,} pipeline runs of {len(STEPS)} steps each in a fresh SQLite store "
        f"(written in {filled:.0f} s), served by `sluice server` on loopback; {args.repeat} "
        f"requests per page after one warm-up, from a separate client process. "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average {load:.1f} at the end.",
        "Command: `.venv/bin/python benchmarks/bench_ui.py`",
        "",
        "| page | median ms | p95 ms |",
        "| --- | ---: | ---: |",
    ]
    for label, times in rows:
        p95 = sorted(times)[int(0.95 * (len(times) - 1))]
        lines.append(f"| {label} | {statistics.median(times):.1f} | {p95:.1f} |")
    verdict = "met" if first < TARGET_MS else "NOT met"
    lines += [
        "",
        f"Target: the first screen under {TARGET_MS:.0f} ms of server time with "
        f"{args.runs:,} runs: median {first:.1f} ms ({verdict}).",
    ]
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(client: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


if __name__ == "__main__":
    main(sys.argv[1:])
