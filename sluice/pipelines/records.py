"""Writing a run to the store in few transactions.

Rows are buffered and written together: a fully cached run of 200 steps is two
transactions. The runner flushes the buffer before it executes a step (so that
``sluice runs show`` sees it running and the step's own code can link records to
its step run) and when the run ends, whatever the ending. A lock keeps flushes
from different threads apart.
Within a flush, rows go in an order the foreign keys accept: artifacts, new
step runs, step run updates, inputs and outputs, then the run itself.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from sluice.pipelines.task import StoredArtifact
from sluice.pipelines.types import Status
from sluice.store import audit
from sluice.store import tables as t
from sluice.store.sql import insert_ignore

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from sluice.workspace import Workspace


def new_id() -> str:
    return uuid.uuid4().hex


class RunRecorder:
    """The store's view of one pipeline run, written in batches."""

    def __init__(self, ws: Workspace, run_id: str) -> None:
        self.ws = ws
        self.run_id = run_id
        self._artifacts: dict[str, dict[str, Any]] = {}
        self._new_steps: list[dict[str, Any]] = []
        self._step_updates: list[tuple[str, dict[str, Any]]] = []
        self._io: list[dict[str, Any]] = []
        self._run_update: dict[str, Any] | None = None
        self.finished = False
        self._lock = threading.Lock()

    def start(
        self, pipeline: str, params: Mapping[str, Any], executor: str, resumed_from: str | None
    ) -> None:
        now = time.time()
        row = {
            "id": self.run_id,
            "pipeline": pipeline,
            "status": Status.RUNNING.value,
            "params": dict(params),
            "executor": executor,
            "resumed_from": resumed_from,
            "created_at": now,
            "started_at": now,
        }
        with self.ws.store.write() as conn:
            conn.execute(t.pipeline_runs.insert(), [row])
            audit.append(
                conn,
                "pipeline.run_started",
                f"runs:/{self.run_id}",
                after={"pipeline": pipeline, "resumed_from": resumed_from},
            )

    def artifacts(self, stored: Iterable[StoredArtifact]) -> None:
        now = time.time()
        for art in stored:
            self._artifacts[art.hash] = {
                "hash": art.hash,
                "size": art.size,
                "media_type": art.media_type,
                "materializer": art.materializer,
                "created_at": now,
            }

    def step(self, row: Mapping[str, Any]) -> None:
        """A new step run row (ids and status given by the caller)."""
        self._new_steps.append({"pipeline_run_id": self.run_id, **row})

    def update_step(self, step_run_id: str, values: Mapping[str, Any]) -> None:
        self._step_updates.append((step_run_id, dict(values)))

    def io(self, step_run_id: str, direction: str, items: Mapping[str, StoredArtifact]) -> None:
        self.artifacts(items.values())
        for name, art in items.items():
            self._io.append(
                {
                    "step_run_id": step_run_id,
                    "direction": direction,
                    "name": name,
                    "artifact_hash": art.hash,
                }
            )

    def finish(self, status: Status, error: str | None = None) -> None:
        self._run_update = {"status": status.value, "error": error, "finished_at": time.time()}
        self.finished = True
        self.flush()

    def flush(self) -> None:
        with self._lock:
            if self._empty:
                return
            with self.ws.store.write() as conn:
                self._write(conn)
            self._artifacts, self._new_steps, self._step_updates, self._io = {}, [], [], []
            self._run_update = None

    @property
    def _empty(self) -> bool:
        pending = (self._artifacts, self._new_steps, self._step_updates, self._io)
        return not any(pending) and self._run_update is None

    def _write(self, conn: Connection) -> None:
        if self._artifacts:
            insert_ignore(conn, t.artifacts, list(self._artifacts.values()))
        if self._new_steps:
            conn.execute(t.step_runs.insert(), _uniform(self._new_steps, t.step_runs))
        for step_run_id, values in self._step_updates:
            conn.execute(t.step_runs.update().where(t.step_runs.c.id == step_run_id), values)
        if self._io:
            conn.execute(t.step_io.insert(), self._io)
        if self._run_update:
            where = t.pipeline_runs.c.id == self.run_id
            conn.execute(sa.update(t.pipeline_runs).where(where), self._run_update)
            audit.append(
                conn,
                "pipeline.run_finished",
                f"runs:/{self.run_id}",
                before={"status": Status.RUNNING.value},
                after={"status": self._run_update["status"], "error": self._run_update["error"]},
            )


def _uniform(rows: list[dict[str, Any]], table: sa.Table) -> list[dict[str, Any]]:
    """Rows with the same keys, as an executemany needs."""
    keys = {k for row in rows for k in row}
    defaults = {c.name: None for c in table.columns if c.name in keys}
    return [{**defaults, **row} for row in rows]
