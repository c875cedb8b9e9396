"""Transactions, unique violations and SQLite settings of the metadata store."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from sluice.errors import AlreadyExists, ConfigError, SluiceError, StoreError
from sluice.store import Store
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


def test_a_broken_foreign_key_is_a_store_error_not_already_exists(any_ws: Workspace) -> None:
    row = {"id": "a" * 32, "pipeline_run_id": "b" * 32, "step": "s", "cache_key": "k"}
    with pytest.raises(StoreError) as info, any_ws.store.write() as conn:
        conn.execute(t.step_runs.insert().values(**row, status="running", attempts=0))
    assert not isinstance(info.value, AlreadyExists)
    assert str(info.value).startswith(
        f"The metadata store at {any_ws.store.safe_url} refused a write that would break its "
        "integrity: "
    )
    assert str(info.value).endswith(
        "A record it refers to is missing or a required value is empty; check the ids passed in."
    )
    assert isinstance(info.value.__cause__, sa.exc.IntegrityError)


@pytest.mark.parametrize(
    ("url", "shown", "cause"),
    [
        ("nonsense", "'nonsense'", "ArgumentError: Could not parse SQLAlchemy URL"),
        ("postgresql+nodriver://u:pw@h/db", "'postgresql+nodriver://u:***@h/db'", "Can't load"),
        ("postgresql+psycopg://u:pw@h:port/db", "'postgresql+psycopg://u:***@h:port/db'", "int()"),
    ],
)
def test_a_bad_database_url_is_a_config_error(url: str, shown: str, cause: str) -> None:
    with pytest.raises(ConfigError) as info:
        Store(url)
    message = str(info.value)
    assert message.startswith(
        "Expected SLUICE_DB_URL to be a SQLAlchemy URL with an installed driver, such as "
        f"sqlite:////path/to/sluice.db or postgresql+psycopg://user@host/db; got {shown} ("
    )
    assert cause in message and "pw" not in message
    assert message.endswith("Fix the URL, or unset it to use SQLite in SLUICE_HOME.")


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError) as info:
        Store("postgresql+psycopg://sluice:secret@127.0.0.1:1/none?connect_timeout=5")
    message = str(info.value)
    assert message.startswith("The metadata store at postgresql+psycopg://sluice:***@127.0.0.1:1/")
    assert "secret" not in message
    assert message.endswith("Check that it is reachable and writable (SLUICE_DB_URL, SLUICE_HOME).")


def test_a_home_that_cannot_be_a_folder_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError) as info:
        Store(f"sqlite:///{blocker / 'home' / 'sluice.db'}")
    assert str(info.value) == (
        f"Expected a folder for the metadata store at {blocker / 'home'}; it cannot be made "
        "(Not a directory). Set SLUICE_HOME to a folder you can write."
    )
