"""Reading runs back: one run, a list of runs, the history of one metric.

Readers first write this process's buffered rows for the same store, so a
script always reads what it has just logged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sluice.errors import RunNotFound, TrackingError, did_you_mean
from sluice.store import tables as t
from sluice.tracking.checks import check_choice, check_key
from sluice.tracking.records import MetricPoint, RunRecord, RunStatus
from sluice.tracking.writer import writer_of

if TYPE_CHECKING:
    from sluice.workspace import Workspace

_CHUNK = 500  # ids per IN (...) clause, well under SQLite's limit


def get_run(ws: Workspace, run_id: str) -> RunRecord:
    """The run with this id: status, times, params, latest metrics, tags."""
    _flush(ws)
    with ws.store.read() as conn:
        row = conn.execute(sa.select(t.runs).where(t.runs.c.id == run_id)).first()
        if row is None:
            raise _not_found(conn, ws, run_id)
        return _records(conn, [row])[0]


def list_runs(
    ws: Workspace,
    experiment: str | None = None,
    *,
    status: RunStatus | str | None = None,
    parent_id: str | None = None,
    pipeline_run_id: str | None = None,
    limit: int | None = None,
) -> list[RunRecord]:
    """Runs, newest first, optionally of one experiment, status, parent or pipeline run."""
    _flush(ws)
    query = sa.select(t.runs).order_by(t.runs.c.start_time.desc(), t.runs.c.id)
    if experiment is not None:
        query = query.where(t.runs.c.experiment == experiment)
    if status is not None:
        value = check_choice(status, [s.value for s in RunStatus], "status= expects one of")
        query = query.where(t.runs.c.status == value)
    if parent_id is not None:
        query = query.where(t.runs.c.parent_id == parent_id)
    if pipeline_run_id is not None:
        query = query.where(t.runs.c.pipeline_run_id == pipeline_run_id)
    if limit is not None:
        query = query.limit(limit)
    with ws.store.read() as conn:
        return _records(conn, list(conn.execute(query)))


def metric_history(ws: Workspace, run_id: str, key: str) -> list[MetricPoint]:
    """Every value logged for ``key`` in the run, by step, then time, then order of writing."""
    check_key(key, "metric")
    _flush(ws)
    m = t.metrics
    query = (
        sa.select(m.c.step, m.c.value, m.c.timestamp)
        .where(m.c.run_id == run_id, m.c.key == key)
        .order_by(m.c.step, m.c.timestamp, m.c.id)
    )
    with ws.store.read() as conn:
        points = [MetricPoint(int(s), float(v), float(ts)) for s, v, ts in conn.execute(query)]
        if not points:
            _explain_empty(conn, ws, run_id, key)
    return points


def _flush(ws: Workspace) -> None:
    writer = writer_of(ws.store)
    if writer is not None:
        writer.flush()


def _records(conn: Connection, rows: Sequence[sa.Row]) -> list[RunRecord]:
    ids = [row.id for row in rows]
    params = _key_values(conn, t.params, ids)
    tags = _key_values(conn, t.tags, ids)
    metrics = _latest_metrics(conn, ids)
    return [
        RunRecord(
            id=row.id,
            name=row.name,
            experiment=row.experiment,
            status=RunStatus(row.status),
            start_time=row.start_time,
            end_time=row.end_time,
            parent_id=row.parent_id,
            pipeline_run_id=row.pipeline_run_id,
            step_run_id=row.step_run_id,
            params=params[row.id],
            metrics=metrics[row.id],
            tags=tags[row.id],
        )
        for row in rows
    ]


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _key_values(conn: Connection, table: sa.Table, ids: list[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for chunk in _chunks(ids):
        query = sa.select(table.c.run_id, table.c.key, table.c.value).where(
            table.c.run_id.in_(chunk)
        )
        for run_id, key, value in conn.execute(query.order_by(table.c.key)):
            found[run_id][key] = value
    return found


def _latest_metrics(conn: Connection, ids: list[str]) -> dict[str, dict[str, float]]:
    """Per run and key, the value at the highest step (then latest time, then last written)."""
    m = t.metrics
    rank = sa.func.row_number().over(
        partition_by=(m.c.run_id, m.c.key),
        order_by=(m.c.step.desc(), m.c.timestamp.desc(), m.c.id.desc()),
    )
    found: dict[str, dict[str, float]] = defaultdict(dict)
    for chunk in _chunks(ids):
        ranked = (
            sa.select(m.c.run_id, m.c.key, m.c.value, rank.label("rank"))
            .where(m.c.run_id.in_(chunk))
            .subquery()
        )
        query = sa.select(ranked.c.run_id, ranked.c.key, ranked.c.value).where(ranked.c.rank == 1)
        for run_id, key, value in conn.execute(query.order_by(ranked.c.key)):
            found[run_id][key] = float(value)
    return found


def _not_found(conn: Connection, ws: Workspace, run_id: str) -> RunNotFound:
    hint = ""
    if isinstance(run_id, str) and 0 < len(run_id) < 32:
        like = (
            conn.execute(
                sa.select(t.runs.c.id)
                .where(t.runs.c.id.startswith(run_id, autoescape=True))
                .limit(2)
            )
            .scalars()
            .all()
        )
        if len(like) == 1:
            hint = f" Did you mean '{like[0]}'?"
    return RunNotFound(
        f"Expected the id of a run in the store at {ws.store.safe_url}; got {run_id!r}, which "
        f"matches no run. List the runs with list_runs(ws) and copy the full id.{hint}"
    )


def _explain_empty(conn: Connection, ws: Workspace, run_id: str, key: str) -> None:
    """No points: the run or the metric does not exist; say which, with suggestions."""
    if conn.execute(sa.select(t.runs.c.id).where(t.runs.c.id == run_id)).first() is None:
        raise _not_found(conn, ws, run_id)
    keys = (
        conn.execute(sa.select(t.metrics.c.key).where(t.metrics.c.run_id == run_id).distinct())
        .scalars()
        .all()
    )
    known = ", ".join(repr(k) for k in sorted(keys)) or "none"
    raise TrackingError(
        f"Run {run_id} has no metric {key!r}; its metrics are: {known}.{did_you_mean(key, keys)}"
    )
