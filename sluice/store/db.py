"""Opening the metadata store: engine, SQLite pragmas, migrations under a lock.

SQLite runs in WAL mode; write transactions start with ``BEGIN IMMEDIATE`` so that
two processes never deadlock upgrading a read lock, and ``busy_timeout`` makes a
writer wait for the other rather than fail. Migrations run under an exclusive
lock (a lock file next to the SQLite database, an advisory lock on PostgreSQL),
so many processes may open the same fresh store at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from sluice.config import Settings
from sluice.errors import AlreadyExists, ConfigError, StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_KEY = 0x5C1CE  # advisory lock id for migrations


class Store:
    """A handle on the metadata store. Cheap to keep, safe to share between threads."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        try:
            self.engine = _make_engine(url)
        except (sa.exc.ArgumentError, ValueError, ImportError) as exc:  # bad URL, no driver
            raise ConfigError(
                f"Expected SLUICE_DB_URL to be a SQLAlchemy URL with an installed driver, such "
                f"as sqlite:////path/to/sluice.db or postgresql+psycopg://user@host/db; got "
                f"{_masked(url)!r} ({type(exc).__name__}: {exc}). Fix the URL, or unset it to "
                "use SQLite in SLUICE_HOME."
            ) from exc
        if migrate:
            with self._translated():
                self.migrate()

    @classmethod
    def open(cls, settings: Settings | None = None) -> Store:
        return cls((settings or Settings.from_env()).db_url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- transactions ------------------------------------------------------

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading; rolled back at the end."""
        with self._translated(), self.engine.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed on success; unique violations become AlreadyExists."""
        with (
            self._translated(),
            self.engine.connect().execution_options(sluice_write=True) as conn,
            conn.begin(),
        ):
            yield conn

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        """Database errors as sluice errors, the original kept as ``__cause__``."""
        try:
            yield
        except sa.exc.IntegrityError as exc:
            if _is_unique_violation(exc):
                raise AlreadyExists(
                    f"A record with the same key already exists: {exc.orig}"
                ) from exc
            raise StoreError(
                f"The metadata store at {self.safe_url} refused a write that would break its "
                f"integrity: {exc.orig}. A record it refers to is missing or a required value "
                "is empty; check the ids passed in."
            ) from exc
        except sa.exc.OperationalError as exc:
            raise StoreError(
                f"The metadata store at {self.safe_url} failed: {exc.orig}. Check that it is "
                "reachable and writable (SLUICE_DB_URL, SLUICE_HOME)."
            ) from exc

    @property
    def safe_url(self) -> str:
        return _masked(self.url)

    def close(self) -> None:
        self.engine.dispose()

    # -- migrations --------------------------------------------------------

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        assert head is not None
        return head

    def migrate(self) -> None:
        """Bring the schema to the newest revision; a no-op when it is there already."""
        if self.current_revision() == self.head_revision():
            return
        with self._migration_lock() as conn:
            from alembic import command

            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[Connection]:
        if self.dialect == "sqlite":
            db_path = self.engine.url.database
            lock_path = f"{db_path}.lock" if db_path and db_path != ":memory:" else None
            with _file_lock(lock_path), self.engine.connect() as conn:
                yield conn
        elif self.dialect == "postgresql":
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
                try:
                    yield conn
                finally:
                    conn.rollback()  # after a failed migration, unlocking needs a live transaction
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                    conn.commit()
        else:
            with self.engine.connect() as conn:
                yield conn


def _masked(url: str) -> str:
    """The URL with its password hidden, even when it does not parse."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _is_unique_violation(exc: sa.exc.IntegrityError) -> bool:
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate is not None:  # PostgreSQL
        return bool(sqlstate == "23505")
    name = getattr(orig, "sqlite_errorname", None)
    if name is not None:
        return name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")
    return "UNIQUE constraint failed" in str(orig)


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@contextlib.contextmanager
def _file_lock(path: str | None) -> Iterator[None]:
    if path is None:
        yield
        return
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _make_engine(url: str) -> Engine:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, future=True)
    database = parsed.database
    if database and database != ":memory:":
        folder = Path(database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"Expected a folder for the metadata store at {folder}; it cannot be made "
                f"({exc.strerror or exc}). Set SLUICE_HOME to a folder you can write."
            ) from exc
    engine = sa.create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 60000")
        _set_wal(cur)
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("sluice_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _set_wal(cur: Any) -> None:
    # Switching to WAL needs a brief exclusive lock; with many processes opening a
    # fresh file at once one of them may see "database is locked" despite the
    # busy timeout, so try again for a while.
    import sqlite3
    import time

    deadline = time.monotonic() + 60
    while True:
        try:
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01 + (os.getpid() % 7) / 1000)
