"""Registering a model version: the bytes as an artifact, everything else as one row.

The version number is ``max + 1`` inside the write transaction; the unique
constraint on (model, version) catches two writers that picked the same number,
and the loser simply tries again. The first version of a model becomes its
``champion``; every new version becomes the ``challenger``.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sluice.errors import AlreadyExists, NotFound, RegistryError
from sluice.registry.aliases import point_alias
from sluice.registry.environment import capture_environment, git_state
from sluice.registry.read import model_id_of, version_of
from sluice.registry.records import Alias, ModelVersion
from sluice.registry.uri import check_model_name
from sluice.store import audit
from sluice.store import tables as t
from sluice.store.sql import insert_ignore
from sluice.workspace import Workspace

MEDIA_TYPES = {"sklearn": "application/x-skops"}
MAX_ATTEMPTS = 50


def register_version(
    ws: Workspace,
    name: str,
    *,
    model_bytes: bytes,
    signature: Any,
    flavor: str = "sklearn",
    dataset_version_id: int | None = None,
    pipeline_run_id: str | None = None,
    run_id: str | None = None,
    params: Mapping[str, Any],
    metrics: Mapping[str, Any],
    seed: int | None = None,
    duration: float | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ModelVersion:
    """Store a trained model as the next version of ``name`` and point ``challenger`` at it."""
    check_model_name(name)
    git = git_state()
    row = {
        "flavor": flavor,
        "signature": jsonable(signature.to_dict() if hasattr(signature, "to_dict") else signature),
        "dataset_version_id": dataset_version_id,
        "pipeline_run_id": pipeline_run_id,
        "run_id": run_id,
        "params": jsonable(params),
        "metrics": jsonable(metrics),
        "environment": jsonable(capture_environment()),
        "git_commit": git.commit if git else None,
        "git_dirty": git.dirty if git else None,
        "seed": seed,
        "duration": duration,
        "extra": jsonable(extra or {}),
    }
    with ws.store.read() as conn:
        _check_links(conn, row)  # before storing bytes, so a bad link leaves nothing behind
    row["artifact_hash"] = ws.put(
        model_bytes,
        media_type=MEDIA_TYPES.get(flavor, "application/octet-stream"),
        materializer=flavor,
    )
    for attempt in range(MAX_ATTEMPTS):
        try:
            with ws.store.write() as conn:
                _check_links(conn, row)
                return _insert_next(conn, name, row)
        except AlreadyExists:
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
    raise RegistryError(
        f"Expected to register a new version of {name!r} within {MAX_ATTEMPTS} attempts; "
        "every attempt collided with a concurrent registration. "
        "Try again when the other writers are done."
    )


def set_card(ws: Workspace, model_version: ModelVersion | int, card_hash: str) -> None:
    """Attach a model card (an artifact already stored with ``ws.put``) to a version."""
    version_id = model_version if isinstance(model_version, int) else model_version.id
    with ws.store.write() as conn:
        if not conn.execute(
            sa.select(t.artifacts.c.hash).where(t.artifacts.c.hash == card_hash)
        ).first():
            raise NotFound(
                f"Expected the card to be a stored artifact; no artifact {card_hash} is indexed. "
                "Store it first with ws.put(...)."
            )
        done = conn.execute(
            t.model_versions.update()
            .where(t.model_versions.c.id == version_id)
            .values(card_hash=card_hash)
        )
        if done.rowcount != 1:
            raise NotFound(f"Expected an existing model version id; got {version_id}.")


def _insert_next(conn: Connection, name: str, row: dict[str, Any]) -> ModelVersion:
    now = time.time()
    insert_ignore(conn, t.registered_models, [{"name": name, "description": "", "created_at": now}])
    model_id = model_id_of(conn, name)
    mv = t.model_versions
    latest = conn.execute(
        sa.select(sa.func.max(mv.c.version)).where(mv.c.model_id == model_id)
    ).scalar()
    number = int(latest or 0) + 1
    version_id = conn.execute(
        mv.insert()
        .values(**row, model_id=model_id, version=number, created_at=now)
        .returning(mv.c.id)
    ).scalar_one()
    audit.append(
        conn,
        "model.version_registered",
        f"models:/{name}/{number}",
        after={
            "artifact_hash": row["artifact_hash"],
            "dataset_version_id": row["dataset_version_id"],
            "pipeline_run_id": row["pipeline_run_id"],
            "metrics": row["metrics"],
        },
    )
    aliases = [Alias.CHALLENGER] + ([Alias.CHAMPION] if number == 1 else [])
    for alias in aliases:
        point_alias(conn, name, model_id, alias.value, version_id, number)
    return version_of(conn, name, model_id, number)


def _check_links(conn: Connection, row: Mapping[str, Any]) -> None:
    """Lineage links must exist: name the missing one rather than fail on a foreign key."""
    links = (
        ("dataset_version_id", t.dataset_versions, "dataset version", "sluice data list"),
        ("pipeline_run_id", t.pipeline_runs, "pipeline run", "sluice runs list"),
        ("run_id", t.runs, "tracked run", "sluice runs list"),
    )
    for key, table, what, command in links:
        value = row.get(key)
        if (
            value is not None
            and not conn.execute(sa.select(table.c.id).where(table.c.id == value)).first()
        ):
            raise NotFound(
                f"Expected {key} to name an existing {what}; got {value!r}, "
                "which is not in the store. "
                f"Run `{command}` to see the ones there are."
            )


def jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars become numbers, NaN and infinities become null."""
    return _finite(json.loads(json.dumps(value, default=_default)))


def _default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
