"""Moving aliases: one row per (model, alias), replaced in one transaction."""

from __future__ import annotations

import time

from sluice.registry.read import model_id_of, version_of
from sluice.registry.records import Alias, ModelVersion
from sluice.registry.uri import check_alias
from sluice.store import tables as t
from sluice.store.sql import upsert
from sluice.workspace import Workspace


def set_alias(ws: Workspace, name: str, version: int, alias: str | Alias) -> ModelVersion:
    """Point ``alias`` at ``version`` of ``name``; wherever it pointed before, it no longer does."""
    alias_name = check_alias(alias.value if isinstance(alias, Alias) else alias)
    with ws.store.write() as conn:
        model_id = model_id_of(conn, name)
        target = version_of(conn, name, model_id, version)
        row = {
            "model_id": model_id,
            "alias": alias_name,
            "version_id": target.id,
            "updated_at": time.time(),
        }
        upsert(conn, t.model_aliases, row, keys=("model_id", "alias"))
        return version_of(conn, name, model_id, version)
