"""Segments: one Parquet file of log rows in the artifact store, one index row in the store.

The index row (kind, model, version, row count, first and last timestamp) lets a
reader open only the segments that overlap a time window.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from sluice.predictions.schema import KINDS, MATERIALIZER, MEDIA_TYPE
from sluice.store import tables as t
from sluice.workspace import Workspace

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class Segment:
    id: int
    kind: str
    model_name: str
    model_version: int | None
    artifact_hash: str
    rows: int
    start_time: float
    end_time: float


def write_segment(
    ws: Workspace, kind: str, model_name: str, model_version: int | None, table: pa.Table
) -> Segment:
    """Store ``table`` as one Parquet segment and index it; returns the index row."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if kind not in KINDS:
        raise ValueError(f"Log segment kind must be one of {KINDS}; got {kind!r}.")
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", row_group_size=65536)
    address = ws.put(buffer.getvalue(), media_type=MEDIA_TYPE, materializer=MATERIALIZER)
    bounds = pc.min_max(table["timestamp"])
    row = {
        "kind": kind,
        "model_name": model_name,
        "model_version": model_version,
        "artifact_hash": address,
        "rows": table.num_rows,
        "start_time": float(bounds["min"].as_py()),
        "end_time": float(bounds["max"].as_py()),
        "created_at": time.time(),
    }
    with ws.store.write() as conn:
        key = conn.execute(sa.insert(t.log_segments).values(**row)).inserted_primary_key
    segment_id = key[0] if key is not None else 0
    del row["created_at"]
    return Segment(id=int(segment_id), **row)


def find_segments(
    ws: Workspace,
    kind: str,
    model_name: str,
    *,
    start: float | None = None,
    end: float | None = None,
    version: int | None = None,
) -> list[Segment]:
    """Segments of ``model_name`` whose rows may fall in ``[start, end)``, oldest first."""
    s = t.log_segments
    query = sa.select(s).where(s.c.kind == kind, s.c.model_name == model_name)
    if start is not None:
        query = query.where(s.c.end_time >= start)
    if end is not None:
        query = query.where(s.c.start_time < end)
    if version is not None:
        query = query.where(s.c.model_version == version)
    query = query.order_by(s.c.start_time, s.c.id)
    with ws.store.read() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        Segment(
            id=r["id"],
            kind=r["kind"],
            model_name=r["model_name"],
            model_version=r["model_version"],
            artifact_hash=r["artifact_hash"],
            rows=r["rows"],
            start_time=r["start_time"],
            end_time=r["end_time"],
        )
        for r in rows
    ]


def read_segments(
    ws: Workspace,
    segments: list[Segment],
    *,
    start: float | None = None,
    end: float | None = None,
) -> Iterator[pa.Table]:
    """The rows of each segment inside ``[start, end)``; bytes are hash-checked on read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    filters = []
    if start is not None:
        filters.append(("timestamp", ">=", start))
    if end is not None:
        filters.append(("timestamp", "<", end))
    for segment in segments:
        data = ws.get(segment.artifact_hash)
        yield pq.read_table(pa.BufferReader(data), filters=filters or None)


def count_rows(ws: Workspace, kind: str, model_name: str) -> int:
    s = t.log_segments
    query = sa.select(sa.func.coalesce(sa.func.sum(s.c.rows), 0)).where(
        s.c.kind == kind, s.c.model_name == model_name
    )
    with ws.store.read() as conn:
        return int(conn.execute(query).scalar_one())
