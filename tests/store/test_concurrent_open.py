"""Several processes opening the same fresh store at once do not race on migrating it."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest
import sqlalchemy as sa

from sluice.store import Store
from sluice.store import tables as t

N_PROCESSES = 8


def _open_and_write(url: str, barrier: mp.synchronize.Barrier, name: str, queue: mp.Queue) -> None:
    try:
        barrier.wait(timeout=60)
        store = Store(url)
        with store.write() as conn:
            conn.execute(t.datasets.insert().values(name=name, created_at=0.0))
        store.close()
        queue.put("ok")
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(f"{type(exc).__name__}: {exc}")


def _race(url: str) -> list[str]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(N_PROCESSES)
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_open_and_write, args=(url, barrier, f"ds{i}", queue))
        for i in range(N_PROCESSES)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return results


def _count(url: str) -> int:
    store = Store(url, migrate=False)
    with store.read() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(t.datasets)).scalar_one()
    store.close()
    return int(n)


def test_fresh_sqlite_store_opened_by_many_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'sluice.db'}"
    assert _race(url) == ["ok"] * N_PROCESSES
    assert _count(url) == N_PROCESSES


@pytest.mark.postgres
def test_fresh_postgres_store_opened_by_many_processes(pg_url: str) -> None:
    assert _race(pg_url) == ["ok"] * N_PROCESSES
    assert _count(pg_url) == N_PROCESSES
