"""Moving aliases: one row per (model, alias), replaced in one transaction, audited."""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sluice.registry.read import model_id_of, version_of
from sluice.registry.records import Alias, ModelVersion
from sluice.registry.uri import check_alias
from sluice.store import audit
from sluice.store import tables as t
from sluice.store.sql import upsert
from sluice.workspace import Workspace


def set_alias(ws: Workspace, name: str, version: int, alias: str | Alias) -> ModelVersion:
    """Point ``alias`` at ``version`` of ``name``; wherever it pointed before, it no longer does."""
    alias_name = check_alias(alias.value if isinstance(alias, Alias) else alias)
    with ws.store.write() as conn:
        model_id = model_id_of(conn, name)
        target = version_of(conn, name, model_id, version)
        point_alias(conn, name, model_id, alias_name, target.id, version)
        return version_of(conn, name, model_id, version)


def point_alias(
    conn: Connection, name: str, model_id: int, alias: str, version_id: int, version: int
) -> None:
    """Inside a write transaction: move the alias and record the move (from which version)."""
    before = aliased_version(conn, model_id, alias)
    row = {
        "model_id": model_id,
        "alias": alias,
        "version_id": version_id,
        "updated_at": time.time(),
    }
    upsert(conn, t.model_aliases, row, keys=("model_id", "alias"))
    if before != version:
        audit.append(
            conn,
            "model.alias_moved",
            f"models:/{name}@{alias}",
            before={"version": before} if before is not None else None,
            after={"version": version},
        )


def aliased_version(conn: Connection, model_id: int, alias: str) -> int | None:
    """The version number an alias points at, or None."""
    a, mv = t.model_aliases, t.model_versions
    number = conn.execute(
        sa.select(mv.c.version)
        .select_from(a.join(mv, mv.c.id == a.c.version_id))
        .where(a.c.model_id == model_id, a.c.alias == alias)
    ).scalar()
    return int(number) if number is not None else None
