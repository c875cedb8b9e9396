"""Lineage: which step run made an artifact, and which step runs read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from sluice.pipelines.types import Status
from sluice.store import tables as t

if TYPE_CHECKING:
    from sluice.workspace import Workspace


@dataclass(frozen=True)
class StepRef:
    """A step run seen from an artifact: which run, which step, under which name."""

    step_run_id: str
    pipeline_run_id: str
    pipeline: str
    step: str
    name: str
    status: Status
    finished_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "status": self.status.value}


def producer_of(ws: Workspace, artifact_hash: str) -> StepRef | None:
    """The step run that computed the artifact (not those that reused it from the cache)."""
    refs = _refs(ws, artifact_hash, "output", [Status.COMPLETED.value])
    return refs[0] if refs else None


def consumers_of(ws: Workspace, artifact_hash: str) -> list[StepRef]:
    """Every step run that took the artifact as an input, oldest first."""
    return _refs(ws, artifact_hash, "input", None)


def _refs(ws: Workspace, address: str, direction: str, statuses: list[str] | None) -> list[StepRef]:
    sr, io, pr = t.step_runs, t.step_io, t.pipeline_runs
    query = (
        sa.select(
            sr.c.id,
            sr.c.pipeline_run_id,
            pr.c.pipeline,
            sr.c.step,
            io.c.name,
            sr.c.status,
            sr.c.finished_at,
        )
        .join(io, io.c.step_run_id == sr.c.id)
        .join(pr, pr.c.id == sr.c.pipeline_run_id)
        .where(io.c.artifact_hash == address, io.c.direction == direction)
        .order_by(sr.c.started_at, sr.c.id)
    )
    if statuses is not None:
        query = query.where(sr.c.status.in_(statuses))
    with ws.store.read() as conn:
        rows = conn.execute(query).all()
    return [
        StepRef(
            r.id, r.pipeline_run_id, r.pipeline, r.step, r.name, Status(r.status), r.finished_at
        )
        for r in rows
    ]
