"""The log writer: batches of predictions and labels, written off the caller's path.

``append`` only queues the batch; a background thread turns what has queued up
into one Parquet segment per model version every ``flush_interval`` seconds (or
sooner when ``max_rows`` are waiting). So a request never waits for a database
commit, and a crash loses at most the last interval. ``flush`` waits until every
row appended before it is durable; ``close`` flushes and stops the thread.

A write that fails (a full disk, a locked store) keeps its rows queued and is
tried again at the next interval; ``last_error`` says why, and ``flush`` raises
``PredictionLogError`` when its deadline passes first.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sluice.errors import PredictionLogError
from sluice.predictions.schema import (
    FEEDBACK,
    PREDICTIONS,
    check_lengths,
    concat_predictions,
    feedback_table,
    predictions_table,
)
from sluice.predictions.segments import write_segment
from sluice.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass
class _Batch:
    """One append: a feedback table, or the raw parts of predictions (converted by the
    writer thread, many at once, so the caller pays for no conversion)."""

    kind: str
    version: int | None
    rows: int
    sequence: int
    table: pa.Table | None = None
    parts: dict[str, Any] | None = None


class PredictionLog:
    """Append predictions and feedback for one model; they are written in the background."""

    def __init__(
        self,
        ws: Workspace,
        model_name: str,
        *,
        flush_interval: float = 1.0,
        max_rows: int = 50_000,
    ) -> None:
        if not flush_interval > 0:
            raise PredictionLogError(
                f"The prediction log's flush interval must be positive; got {flush_interval!r}."
            )
        self.ws = ws
        self.model_name = model_name
        self.flush_interval = float(flush_interval)
        self.max_rows = int(max_rows)
        self.last_error: BaseException | None = None
        self.written = 0
        self.segments = 0
        self.dropped = 0  # rows of batches that could not be converted (see _convert)
        self._queue: list[_Batch] = []
        self._queued_rows = 0
        self._appended = 0  # sequence number of the last batch appended
        self._durable = 0  # every batch up to this sequence number is written
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._done = threading.Condition(self._lock)
        self._closed = False
        self._abandoned = False  # closing gave up on rows that could not be written
        self._thread = threading.Thread(target=self._run, name="sluice-prediction-log", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # -- the caller's side -------------------------------------------------------

    def append(
        self,
        inputs: pd.DataFrame,
        *,
        request_ids: Sequence[str],
        model_version: int,
        predictions: Any,
        probabilities: Any = None,
        classes: Sequence[Any] | None = None,
        flags: Sequence[str] | None = None,
        timestamp: float | None = None,
    ) -> None:
        """Queue one batch of predictions (its inputs, outputs and request ids).

        The batch is kept as given and converted later in the writer thread, so the
        caller must not modify ``inputs`` or the arrays afterwards.
        """
        n = len(request_ids)
        check_lengths(
            n, inputs=inputs, predictions=predictions, probabilities=probabilities, flags=flags
        )
        parts = {
            "inputs": inputs,
            "request_ids": list(request_ids),
            "timestamp": time.time() if timestamp is None else timestamp,
            "model_version": model_version,
            "predictions": predictions,
            "probabilities": probabilities,
            "classes": None if classes is None else list(classes),
            "flags": None if flags is None else list(flags),
        }
        self._put(_Batch(PREDICTIONS, model_version, n, 0, parts=parts))

    def append_feedback(
        self, *, request_ids: Sequence[str], labels: Sequence[Any], timestamp: float | None = None
    ) -> None:
        """Queue ground-truth labels for earlier predictions, by request id."""
        table = feedback_table(request_ids, labels, time.time() if timestamp is None else timestamp)
        self._put(_Batch(FEEDBACK, None, table.num_rows, 0, table=table))

    @property
    def pending(self) -> int:
        """Rows appended but not yet written."""
        with self._lock:
            return self._queued_rows

    def flush(self, timeout: float | None = 30.0) -> None:
        """Wait until every row appended so far is written."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            target = self._appended
            self._wake.notify()
            while self._durable < target:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise PredictionLogError(
                        f"The prediction log of {self.model_name!r} could not write "
                        f"{self._queued_rows} rows within {timeout} s: {self.last_error}. "
                        "Check that the store and the artifact folder are writable."
                    )
                self._done.wait(left if left is None else min(left, 0.5))

    def close(self, timeout: float | None = 30.0) -> None:
        """Write what is queued and stop the writer; safe to call twice."""
        with self._lock:
            if self._closed:
                return
        written = False
        try:
            self.flush(timeout)
            written = True
        finally:
            with self._lock:
                self._closed = True
                self._abandoned = not written
                self._wake.notify()
            self._thread.join(timeout=5)
            atexit.unregister(self.close)

    def __enter__(self) -> PredictionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _put(self, batch: _Batch) -> None:
        with self._lock:
            if self._closed:
                raise PredictionLogError(
                    f"The prediction log of {self.model_name!r} is closed; open a new one."
                )
            self._appended += 1
            batch.sequence = self._appended
            self._queue.append(batch)
            self._queued_rows += batch.rows
            if self._queued_rows >= self.max_rows:
                self._wake.notify()

    # -- the writer thread -------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._closed and self._queued_rows < self.max_rows:
                    self._wake.wait(self.flush_interval)
                batches = list(self._queue)
                stop = self._closed and (not batches or self._abandoned)
            if stop:
                return
            if batches:
                self._write(batches)

    def _write(self, batches: list[_Batch]) -> None:
        """One segment per kind and version; a group that fails stays queued for the next try."""
        groups: dict[tuple[str, int | None], list[_Batch]] = {}
        for batch in batches:
            groups.setdefault((batch.kind, batch.version), []).append(batch)
        for (kind, version), group in groups.items():
            try:
                table = self._convert(group)
                if table is not None:
                    write_segment(self.ws, kind, self.model_name, version, table)
            except Exception as exc:
                self.last_error = exc
                if self._closed:
                    time.sleep(min(self.flush_interval, 0.2))  # no tight loop while closing
                continue
            written = {id(b) for b in group}
            rows = 0 if table is None else table.num_rows
            with self._lock:
                self._queue = [b for b in self._queue if id(b) not in written]
                self._queued_rows -= sum(b.rows for b in group)
                self.written += rows
                self.segments += table is not None
                self._durable = self._queue[0].sequence - 1 if self._queue else self._appended
                self._done.notify_all()
        if not self.dropped and not any(b in self._queue for b in batches):
            self.last_error = None

    def _convert(self, group: list[_Batch]) -> pa.Table | None:
        """The group as one table. A batch that cannot be converted at all (which the
        checks in ``append`` make unlikely) is dropped and counted in ``dropped``,
        rather than blocking every row queued behind it."""
        import pyarrow as pa

        try:
            return _table(group)
        except (ValueError, TypeError, pa.ArrowException) as exc:
            tables = []
            for batch in group:
                try:
                    tables.append(_table([batch]))
                except (ValueError, TypeError, pa.ArrowException):
                    self.dropped += batch.rows
                    self.last_error = exc
            if not tables:
                return None
            return pa.concat_tables(tables, promote_options="permissive")


def _table(group: list[_Batch]) -> pa.Table:
    """The rows of one kind and version as one table, converted in one go where the
    batches agree on their columns, one by one (then promoted) where they do not."""
    import pyarrow as pa

    if group[0].kind == FEEDBACK:
        return pa.concat_tables([b.table for b in group], promote_options="permissive")
    parts = [b.parts for b in group if b.parts is not None]
    columns = {tuple(p["inputs"].columns) for p in parts}
    classes = {None if p["classes"] is None else tuple(p["classes"]) for p in parts}
    if len(columns) == 1 and len(classes) == 1:
        try:
            return concat_predictions(parts)
        except (ValueError, TypeError, pa.ArrowException):
            pass  # mixed types: convert each batch on its own below
    tables = [predictions_table(**p) for p in parts]
    return pa.concat_tables(tables, promote_options="permissive")
