"""Alias moves under load, polling, and a graceful stop that loses nothing acknowledged."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sluice.predictions import read_feedback, read_predictions
from sluice.registry import set_alias
from sluice.workspace import Workspace
from tests.serving.conftest import Models, Server, records

pytestmark = pytest.mark.slow


@pytest.fixture
def ws(models: Models) -> Iterator[Workspace]:
    workspace = Workspace.at(models.home)
    yield workspace
    workspace.close()


class Load:
    """Threads posting single records until stopped; every answer is kept."""

    def __init__(self, server: Server, rows: list[dict[str, Any]], threads: int = 4) -> None:
        self.server, self.rows = server, rows
        self.answers: list[list[tuple[int, int | None]]] = [[] for _ in range(threads)]
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._post, args=(i,), daemon=True) for i in range(threads)
        ]

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def _post(self, i: int) -> None:
        with httpx.Client(base_url=self.server.url, timeout=30) as client:
            n = 0
            while not self._stop.is_set():
                row = self.rows[n % len(self.rows)]
                response = client.post("/predict", json={"record": row})
                version = response.json()["model"]["version"] if response.is_success else None
                self.answers[i].append((response.status_code, version))
                n += 1

    def wait_for(self, answers: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while sum(map(len, self.answers)) < answers and time.monotonic() < deadline:
            time.sleep(0.02)


def test_reload_switches_versions_under_load_without_errors(ws: Workspace, models: Models) -> None:
    set_alias(ws, "bike-reload", 1, "production")
    with Server(models.home, "models:/bike-reload@production") as server:
        with Load(server, records(models.X[:20])) as load:
            load.wait_for(40)
            set_alias(ws, "bike-reload", 2, "production")
            response = server.client.post("/admin/reload")
            assert response.json() == {"previous": 1, "current": 2, "changed": True}
            seen = sum(map(len, load.answers))
            load.wait_for(seen + 40)
        again = server.client.post("/admin/reload").json()
        assert again == {"previous": 2, "current": 2, "changed": False}
        assert "sluice_model_reloads_total 1.0" in server.client.get("/metrics").text
        assert server.stop(), server.output
    for answers in load.answers:
        assert all(status == 200 for status, _ in answers), answers
        versions = [v for _, v in answers]
        assert versions == sorted(versions), "once on version 2, never back to 1"
    assert {v for a in load.answers for _, v in a} == {1, 2}
    assert all(a[-1][1] == 2 for a in load.answers)


def test_polling_follows_an_alias_move(ws: Workspace, models: Models) -> None:
    set_alias(ws, "bike-reload", 1, "staging")
    with Server(models.home, "models:/bike-reload@staging", "--poll", "0.2") as server:
        set_alias(ws, "bike-reload", 2, "staging")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if server.client.get("/ready").json()["model"]["version"] == 2:
                break
            time.sleep(0.1)
        assert server.client.get("/ready").json()["model"]["version"] == 2, "the poll followed"
        row = records(models.X[:1])[0]
        assert server.client.post("/predict", json={"record": row}).json()["model"]["version"] == 2
        assert server.client.post("/admin/reload").json()["changed"] is False
        assert server.stop(), server.output


def test_a_graceful_stop_logs_exactly_what_was_acknowledged(ws: Workspace, models: Models) -> None:
    """SIGTERM with a flush interval longer than the test: only the shutdown can write."""
    start = time.time()
    with Server(models.home, "models:/bike-log@champion", "--flush-interval", "60") as server:
        ids = _predict_and_label(server, models)
        assert server.stop(signal.SIGTERM), server.output
    window = read_predictions(ws, "bike-log", start=start)
    assert sorted(window.meta["request_id"]) == sorted(ids)
    assert set(window.meta["model_version"]) == {1}
    assert set(window.inputs.columns) == set(models.X.columns)
    feedback = read_feedback(ws, "bike-log", start=start)
    assert dict(zip(feedback["request_id"], feedback["label"], strict=True)) == {
        rid: float(i) for i, rid in enumerate(ids[:7])
    }


def _predict_and_label(server: Server, models: Models) -> list[str]:
    """Predictions from three threads and one request of five records; labels for seven."""
    rows = records(models.X[:30])
    ids: list[str] = []
    lock = threading.Lock()

    def post(chunk: list[dict[str, Any]]) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for row in chunk:
                response = client.post("/predict", json={"record": row})
                assert response.status_code == 200
                with lock:
                    ids.extend(response.json()["request_ids"])

    threads = [threading.Thread(target=post, args=(rows[i::3],)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    many = server.client.post("/predict", json={"records": rows[:5]}).json()
    ids += many["request_ids"]
    labels = [{"request_id": rid, "label": float(i)} for i, rid in enumerate(ids[:7])]
    assert server.client.post("/feedback", json={"feedback": labels}).status_code == 200
    return ids


def test_workers_each_serve_and_log(ws: Workspace, models: Models) -> None:
    """Two worker processes, each with its own log writer, stopped with SIGINT (Ctrl-C)."""
    start = time.time()
    args = ("--workers", "2", "--flush-interval", "60")
    with Server(models.home, "models:/bike-log@champion", *args) as server:
        ids = []
        for row in records(models.X[:20]):
            with httpx.Client(base_url=server.url, timeout=30) as client:  # a new connection
                response = client.post("/predict", json={"record": row})
                assert response.status_code == 200, response.text
                ids += response.json()["request_ids"]
        assert server.stop(signal.SIGINT), server.output
    window = read_predictions(ws, "bike-log", start=start)
    assert sorted(window.meta["request_id"]) == sorted(ids)
