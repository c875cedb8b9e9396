"""Checks that what a new run points at exists, before the run is queued.

A run's parent, pipeline run and step run are foreign keys. The writer inserts
runs later, in a background thread; a dangling id would fail there, far from
the call that caused it. So the ids are checked here, once per run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from sluice.errors import TrackingError
from sluice.store import tables as t
from sluice.tracking.writer import writer_of

if TYPE_CHECKING:
    from sluice.tracking.run import Run
    from sluice.workspace import Workspace


def parent_id(parent: Run | str | None, ws: Workspace) -> str | None:
    """The id of the parent run, checked to be in the same store."""
    from sluice.tracking.run import Run

    if parent is None:
        return None
    if isinstance(parent, Run):
        if parent.workspace.store is not ws.store and parent.workspace.store.url != ws.store.url:
            raise TrackingError(
                f"The parent run {parent.id} lives in {parent.workspace.store.safe_url}, but the "
                f"new run would go to {ws.store.safe_url}. Start the child in the parent's "
                "workspace (leave workspace= out)."
            )
        return parent.id
    if not isinstance(parent, str):
        raise TrackingError(
            f"parent= expects a Run or a run id; got {type(parent).__name__} {parent!r}. "
            "Pass the parent run object or its id."
        )
    writer = writer_of(ws.store)
    if writer is not None:
        writer.flush()  # the parent may still be waiting in the batch
    _require_row(ws, t.runs, parent, "parent run", "list_runs(ws)")
    return parent


def pipeline_links(
    ws: Workspace, pipeline_run_id: str | None, step_run_id: str | None
) -> str | None:
    """Check the pipeline and step run ids; returns the pipeline run id (derived from the step)."""
    if step_run_id is not None:
        row = _require_row(ws, t.step_runs, step_run_id, "step run", "the pipeline's runs")
        owner = row.pipeline_run_id
        if pipeline_run_id is not None and pipeline_run_id != owner:
            raise TrackingError(
                f"Step run {step_run_id} belongs to pipeline run {owner}, not to "
                f"{pipeline_run_id}. Pass matching ids, or only step_run_id=."
            )
        return str(owner)
    if pipeline_run_id is not None:
        _require_row(ws, t.pipeline_runs, pipeline_run_id, "pipeline run", "the pipeline's runs")
    return pipeline_run_id


def _require_row(ws: Workspace, table: sa.Table, row_id: str, what: str, where: str) -> sa.Row:
    with ws.store.read() as conn:
        row = conn.execute(sa.select(table).where(table.c.id == row_id)).first()
    if row is None:
        raise TrackingError(
            f"Expected the id of an existing {what}; got {row_id!r}, which is not in the store "
            f"at {ws.store.safe_url}. Copy the id from {where}."
        )
    return row
