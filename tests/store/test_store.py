"""Transactions, unique violations and SQLite settings of the metadata store."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sluice.errors import AlreadyExists, SluiceError
from sluice.store import tables as t
from sluice.store.sql import insert_ignore, upsert
from sluice.workspace import Workspace


def test_unique_violation_becomes_already_exists(any_ws: Workspace) -> None:
    with any_ws.store.write() as conn:
        conn.execute(t.datasets.insert().values(name="bikes", created_at=1.0))
    with (
        pytest.raises(AlreadyExists, match="already exists") as info,
        any_ws.store.write() as conn,
    ):
        conn.execute(t.datasets.insert().values(name="bikes", created_at=2.0))
    assert isinstance(info.value, SluiceError)
    assert isinstance(info.value.__cause__, sa.exc.IntegrityError)


def test_failed_write_leaves_nothing(any_ws: Workspace) -> None:
    with pytest.raises(RuntimeError), any_ws.store.write() as conn:
        conn.execute(t.datasets.insert().values(name="half", created_at=1.0))
        raise RuntimeError("boom")
    with any_ws.store.read() as conn:
        assert conn.execute(sa.select(t.datasets)).all() == []


def test_insert_ignore_and_upsert(any_ws: Workspace) -> None:
    row = {"hash": "a" * 64, "size": 1, "media_type": "x", "materializer": "bytes", "created_at": 1}
    with any_ws.store.write() as conn:
        insert_ignore(conn, t.artifacts, [row, row])
        insert_ignore(conn, t.artifacts, [row])
        upsert(conn, t.artifacts, {**row, "size": 7}, keys=["hash"])
    with any_ws.store.read() as conn:
        sizes = conn.execute(sa.select(t.artifacts.c.size)).scalars().all()
    assert sizes == [7]


def test_sqlite_runs_in_wal_mode_with_foreign_keys(ws: Workspace) -> None:
    with ws.store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
