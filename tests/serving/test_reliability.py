"""A bounded load test: a minute at concurrency 16, then a graceful stop or a crash.

After a graceful stop the prediction log holds exactly the acknowledged requests;
after a crash (SIGKILL) it holds at least everything acknowledged before the
last flush interval. ``SLUICE_LOAD_SECONDS`` shortens the minute for a quick
local run.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import httpx
import pytest

from sluice.predictions import read_predictions
from sluice.workspace import Workspace
from tests.serving.conftest import Models, Server, records

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("SLUICE_LOAD_SECONDS", "60"))
CONCURRENCY = 16


class Traffic:
    """``CONCURRENCY`` clients posting one record at a time until the deadline."""

    def __init__(self, server: Server, rows: list[dict[str, Any]]) -> None:
        self.server, self.rows = server, rows
        self.acknowledged: list[tuple[float, str]] = []  # (time answered, request id)
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def run(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=self._client, args=(k, deadline)) for k in range(CONCURRENCY)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _client(self, k: int, deadline: float) -> None:
        with httpx.Client(base_url=self.server.url, timeout=30) as client:
            n = k
            while time.monotonic() < deadline:
                row = self.rows[n % len(self.rows)]
                n += CONCURRENCY
                try:
                    response = client.post("/predict", json={"record": row})
                except httpx.HTTPError as exc:
                    with self._lock:
                        self.failures.append(repr(exc))
                    continue
                with self._lock:
                    if response.status_code == 200:
                        for request_id in response.json()["request_ids"]:
                            self.acknowledged.append((time.time(), request_id))
                    else:
                        self.failures.append(f"{response.status_code}: {response.text[:200]}")


def test_a_minute_at_concurrency_16_has_no_errors_and_logs_exactly_what_was_answered(
    models: Models,
) -> None:
    start = time.time()
    with Server(models.home, "models:/bike-demand@champion") as server:
        traffic = Traffic(server, records(models.X[:500]))
        traffic.run(SECONDS)
        metrics = server.client.get("/metrics").text
        assert server.stop(signal.SIGTERM), server.output
    assert traffic.failures == []
    assert len(traffic.acknowledged) > SECONDS * 20, "the load ran"
    batches = _metric(metrics, "sluice_batches_total")
    assert batches < len(traffic.acknowledged), "concurrent requests were batched"
    ws = Workspace.at(models.home)
    try:
        logged = read_predictions(ws, "bike-demand", start=start).meta["request_id"]
    finally:
        ws.close()
    assert logged.is_unique
    assert set(logged) == {request_id for _, request_id in traffic.acknowledged}


def test_a_crash_loses_at_most_the_last_flush_interval(models: Models) -> None:
    start = time.time()
    interval = 1.0
    with Server(
        models.home, "models:/bike-log@champion", "--flush-interval", str(interval)
    ) as server:
        traffic = Traffic(server, records(models.X[:200]))
        traffic.run(min(SECONDS, 10.0))
        killed = time.time()
        server.stop(signal.SIGKILL)
    assert traffic.failures == []
    ws = Workspace.at(models.home)
    try:
        logged = set(read_predictions(ws, "bike-log", start=start).meta["request_id"])
    finally:
        ws.close()
    answered = {request_id for _, request_id in traffic.acknowledged}
    assert logged <= answered, "nothing is logged that was not answered"
    # Everything answered well before the kill was written by a periodic flush; a
    # margin over the interval absorbs a slow write on a busy machine.
    settled = {r for t, r in traffic.acknowledged if t < killed - interval - 3.0}
    assert settled, "the load ran long enough to flush"
    assert settled <= logged, f"{len(settled - logged)} answered rows lost by the crash"


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")
