"""The batching writer: one per metadata store, so that logging costs microseconds.

Calls append rows to an in-memory batch under a lock and return. A daemon
thread writes the batch in one transaction (metrics as multi-row INSERTs on
SQLite, ``COPY`` on PostgreSQL) when it holds ``batch_size`` rows or
``interval`` seconds have passed; the thread stops after an idle interval and
starts again with the next row. A batch is also
written, in the caller's thread, when a run ends (so a run is durable once
``end()`` returns), when :func:`flush` is called, and at interpreter exit.

Order is kept: one flush at a time, and within a flush runs are inserted
before their params, metrics and tags, and ended last. A flush that fails puts
its rows back in front of newer ones and raises :class:`TrackingError`; the
rows are tried again at the next flush. When more than ``max_pending`` rows
wait (the store is slower than the caller), the caller writes them itself:
memory stays bounded, nothing is dropped, and a store that stays down shows
up as a TrackingError in the logging call rather than as growing memory.

At exit, runs still open are ended, as ``failed`` when an uncaught exception
is ending the interpreter, ``finished`` otherwise, and everything is written.
In a forked child the inherited rows and open runs belong to the parent and
are dropped, so they are never written twice; a child may still log into its
parent's run once the parent has flushed it (the run row must exist).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sluice.errors import TrackingError
from sluice.store import Store
from sluice.store import tables as t
from sluice.store.sql import insert_ignore

Row = dict[str, Any]
MetricRow = tuple[str, str, float, int, float]
METRIC_COLUMNS = ("run_id", "key", "value", "step", "timestamp")
_ROWS_PER_INSERT = 400  # 2,000 bind parameters: far below SQLite's and PostgreSQL's limits


@dataclass
class _Batch:
    """Rows waiting to be written, by kind, in the order they must be written."""

    runs: list[Row] = field(default_factory=list)
    params: list[Row] = field(default_factory=list)
    metrics: list[MetricRow] = field(default_factory=list)
    tags: dict[tuple[str, str], str] = field(default_factory=dict)
    ends: list[Row] = field(default_factory=list)

    def __len__(self) -> int:
        return (
            len(self.runs) + len(self.params) + len(self.metrics) + len(self.tags) + len(self.ends)
        )

    def then(self, newer: _Batch) -> _Batch:
        """This batch followed by a newer one (used to put back rows that failed)."""
        tags = {**self.tags, **newer.tags}
        return _Batch(
            self.runs + newer.runs,
            self.params + newer.params,
            self.metrics + newer.metrics,
            tags,
            self.ends + newer.ends,
        )


class Writer:
    """Buffers tracking rows for one store and writes them in batches."""

    def __init__(
        self,
        store: Store,
        *,
        batch_size: int = 10_000,
        interval: float = 1.0,
        max_pending: int = 500_000,
    ) -> None:
        self._store = weakref.ref(store)
        self._pinned: Store | None = None  # held while runs are open, so none is lost
        self.batch_size = batch_size
        self.interval = interval
        self.max_pending = max_pending
        self.open_runs: set[str] = set()
        self._reset_state()

    def _reset_state(self) -> None:
        self._lock = threading.Lock()  # guards _batch, _pending, _running
        self._flush_lock = threading.Lock()  # one flush at a time keeps the order
        self._wake = threading.Event()
        self._batch = _Batch()
        self._pending = 0
        self._running = False

    @property
    def store(self) -> Store:
        store = self._store()
        if store is None:  # pragma: no cover - only after the workspace was collected
            raise TrackingError("The store of this writer was closed and collected.")
        return store

    def pin(self, run_id: str) -> None:
        """Count a run as open; the store stays alive until it ends or the process exits."""
        self.open_runs.add(run_id)
        self._pinned = self.store

    def unpin(self, run_id: str) -> None:
        self.open_runs.discard(run_id)
        if not self.open_runs:
            self._pinned = None

    @property
    def pending(self) -> int:
        """Rows waiting to be written."""
        return self._pending

    # -- adding rows (the callers' side) -------------------------------------

    def add_metric(self, row: MetricRow) -> None:
        """The hot path: one metric row, ``(run_id, key, value, step, timestamp)``."""
        with self._lock:
            self._batch.metrics.append(row)
            self._pending += 1
            pending = self._pending
            if not self._running:
                self._start_thread()
        if pending >= self.batch_size:
            self._after_threshold(pending)

    def add_rows(self, kind: str, rows: list[Any]) -> None:
        """Rows of kind ``runs``, ``params``, ``ends`` (dicts) or ``metrics`` (tuples)."""
        with self._lock:
            getattr(self._batch, kind).extend(rows)
            self._pending += len(rows)
            pending = self._pending
            if not self._running:
                self._start_thread()
        if pending >= self.batch_size:
            self._after_threshold(pending)

    def add_tags(self, run_id: str, tags: dict[str, str]) -> None:
        """Tags are mutable: within a batch the last value of a key wins."""
        with self._lock:
            for key, value in tags.items():
                self._batch.tags[(run_id, key)] = value
            self._pending = len(self._batch)
            if not self._running:
                self._start_thread()

    def _after_threshold(self, pending: int) -> None:
        if pending >= self.max_pending:
            self.flush()
        elif not self._wake.is_set():
            self._wake.set()

    # -- writing ---------------------------------------------------------------

    def flush(self) -> None:
        """Write everything added so far; raise TrackingError (keeping the rows) on failure."""
        with self._flush_lock:
            with self._lock:
                batch, self._batch = self._batch, _Batch()
                self._pending = 0
            if not batch:
                return
            try:
                _write(self.store, batch)
            except Exception as exc:  # whatever failed (store, driver, COPY), keep the rows
                with self._lock:
                    self._batch = batch.then(self._batch)
                    self._pending = len(self._batch)
                raise TrackingError(
                    f"Could not write {len(batch)} tracking rows to the store at "
                    f"{self.store.safe_url}: {exc}. They are kept in memory and tried again at "
                    "the next flush; check that the store is reachable and writable."
                ) from exc

    def _start_thread(self) -> None:
        self._running = True
        self._wake.clear()
        thread = threading.Thread(target=self._loop, name="sluice-tracking-writer", daemon=True)
        thread.start()

    def _loop(self) -> None:
        """Flush on a full batch or every ``interval``; stop after an idle interval."""
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                if self._pending == 0:
                    self._running = False
                    return
            try:
                self.flush()
            except TrackingError:
                time.sleep(self.interval)  # rows are kept; the next flush tries again


def _write(store: Store, batch: _Batch) -> None:
    runs, ends = _merge_ends(batch.runs, batch.ends)
    with store.write() as conn:
        if runs:
            conn.execute(t.runs.insert(), runs)
        if batch.params:
            insert_ignore(conn, t.params, batch.params)
        if batch.metrics:
            _insert_tuples(conn, t.metrics, METRIC_COLUMNS, batch.metrics)
        if batch.tags:
            _upsert_tags(conn, batch.tags)
        if ends:
            conn.execute(_END_RUN, ends)


def _merge_ends(runs: list[Row], ends: list[Row]) -> tuple[list[Row], list[Row]]:
    """A run that starts and ends in the same batch is inserted ended: one statement less.

    New dicts, so that a batch put back after a failure is unchanged.
    """
    if not runs or not ends:
        return runs, ends
    ending = {end["run_id"]: end for end in ends}
    merged = [
        {**run, **_end_columns(ending.pop(run["id"]))} if run["id"] in ending else run
        for run in runs
    ]
    return merged, [end for end in ends if end["run_id"] in ending]


def _end_columns(end: Row) -> Row:
    return {"status": end["status"], "end_time": end["end_time"]}


_END_RUN = (
    t.runs.update()
    .where(t.runs.c.id == sa.bindparam("run_id"))
    .values(status=sa.bindparam("status"), end_time=sa.bindparam("end_time"))
)


def _insert_tuples(
    conn: Connection, table: sa.Table, columns: tuple[str, ...], rows: list[MetricRow]
) -> None:
    """Insert many rows by the fastest path each database has, straight to the driver.

    SQLAlchemy's compiler builds a bind dictionary per row, which costs more than
    the database itself; so PostgreSQL (psycopg) gets ``COPY``, about three times
    faster than multi-row VALUES there, and SQLite gets multi-row VALUES, about
    twice as fast as ``executemany``.
    """
    quote = conn.dialect.identifier_preparer.quote
    target = f"{quote(table.name)} ({', '.join(quote(c) for c in columns)})"
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        driver = conn.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    head = f"INSERT INTO {target} VALUES "
    one = "(" + ", ".join([mark] * len(columns)) + ")"
    full = head + ", ".join([one] * _ROWS_PER_INSERT)
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start : start + _ROWS_PER_INSERT]
        sql = full if len(chunk) == _ROWS_PER_INSERT else head + ", ".join([one] * len(chunk))
        conn.exec_driver_sql(sql, tuple(v for row in chunk for v in row))


def _upsert_tags(conn: Connection, tags: dict[tuple[str, str], str]) -> None:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    stmt = insert(t.tags)
    stmt = stmt.on_conflict_do_update(
        index_elements=["run_id", "key"], set_={"value": stmt.excluded.value}
    )
    rows = [{"run_id": run_id, "key": key, "value": value} for (run_id, key), value in tags.items()]
    conn.execute(stmt, rows)


# -- one writer per store, and what happens at exit and fork -------------------

_writers: weakref.WeakKeyDictionary[Store, Writer] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def open_run(store: Store, run_id: str) -> Writer:
    """The writer of ``store``, with ``run_id`` counted as open on it."""
    with _writers_lock:
        writer = _writers.get(store)
        if writer is None:
            writer = _writers[store] = Writer(store)
        writer.pin(run_id)
        return writer


def close_run(writer: Writer, run_id: str, status: str, end_time: float) -> None:
    """Queue the end of a run and write everything; the run is durable on return."""
    with _writers_lock:
        writer.unpin(run_id)
    writer.add_rows("ends", [{"run_id": run_id, "status": status, "end_time": end_time}])
    writer.flush()


def writer_of(store: Store) -> Writer | None:
    """The writer of ``store``, if runs were logged to it in this process."""
    with _writers_lock:
        return _writers.get(store)


def flush_all() -> None:
    """Write every live writer's rows; the first failure is raised after trying all."""
    with _writers_lock:
        writers = list(_writers.values())
    errors = []
    for writer in writers:
        try:
            writer.flush()
        except TrackingError as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


def _at_exit() -> None:
    failing = getattr(sys, "last_value", None) is not None
    status = "failed" if failing else "finished"
    now = time.time()
    with _writers_lock:
        writers = list(_writers.values())
    for writer in writers:
        with _writers_lock:
            open_ids = list(writer.open_runs)
            for run_id in open_ids:
                writer.unpin(run_id)
        ends = [{"run_id": r, "status": status, "end_time": now} for r in open_ids]
        if ends:
            writer.add_rows("ends", ends)
        try:
            writer.flush()
        except TrackingError as exc:
            sys.stderr.write(f"sluice: tracking data lost at exit: {exc}\n")


def _after_fork_in_child() -> None:
    global _writers_lock
    _writers_lock = threading.Lock()
    for writer in list(_writers.values()):
        for run_id in list(writer.open_runs):
            writer.unpin(run_id)
        writer._reset_state()
        writer.store.engine.dispose(close=False)


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
