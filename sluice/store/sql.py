"""Small SQL helpers that read the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def insert_ignore(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows, skipping those whose key is already there."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(table).on_conflict_do_nothing(), list(rows))
    elif conn.dialect.name == "sqlite":
        conn.execute(table.insert().prefix_with("OR IGNORE"), list(rows))
    else:  # pragma: no cover - other dialects are not supported yet
        for row in rows:
            if not conn.execute(
                sa.select(sa.literal(1))
                .select_from(table)
                .filter_by(**{c.name: row[c.name] for c in table.primary_key.columns})
            ).first():
                conn.execute(table.insert(), [dict(row)])


def upsert(conn: Connection, table: sa.Table, row: Mapping[str, Any], keys: Sequence[str]) -> None:
    """Insert a row or, when its key exists, update the other columns."""
    updates = {k: v for k, v in row.items() if k not in keys}
    stmt: Any
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = (
            pg_insert(table)
            .values(**row)
            .on_conflict_do_update(index_elements=list(keys), set_=updates)
        )
    else:
        from sqlalchemy.dialects.sqlite import insert as lite_insert

        stmt = (
            lite_insert(table)
            .values(**row)
            .on_conflict_do_update(index_elements=list(keys), set_=updates)
        )
    conn.execute(stmt)
