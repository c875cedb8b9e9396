"""Reading the registry: models, versions, and resolving URIs to one version.

Unknown names never come back empty-handed: the error names what exists, suggests
the nearest match and the command to run instead.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sluice.errors import AliasNotFound, ModelNotFound, VersionNotFound, did_you_mean
from sluice.registry.records import Alias, ModelVersion, RegisteredModel
from sluice.registry.uri import ModelRef, parse_uri
from sluice.store import tables as t
from sluice.workspace import Workspace

_MV = t.model_versions
_RM = t.registered_models
_AL = t.model_aliases


def resolve(ws: Workspace, uri: str | ModelRef) -> ModelVersion:
    """The version a URI points at: by number, by alias, or the latest one."""
    ref = uri if isinstance(uri, ModelRef) else parse_uri(uri)
    with ws.store.read() as conn:
        model_id = model_id_of(conn, ref.name)
        if ref.alias is not None:
            version_id = _alias_target(conn, model_id, ref)
            return _load(conn, _MV.c.id == version_id)
        number = ref.version if ref.version is not None else _latest(conn, model_id)
        return version_of(conn, ref.name, model_id, number)


def list_models(ws: Workspace) -> list[RegisteredModel]:
    """Every registered model, by name, with its latest version and its aliases."""
    counts = (
        sa.select(
            _MV.c.model_id, sa.func.count().label("n"), sa.func.max(_MV.c.version).label("latest")
        )
        .group_by(_MV.c.model_id)
        .subquery()
    )
    query = (
        sa.select(_RM, counts.c.n, counts.c.latest)
        .outerjoin(counts, counts.c.model_id == _RM.c.id)
        .order_by(_RM.c.name)
    )
    alias_query = sa.select(_AL.c.model_id, _AL.c.alias, _MV.c.version).join(
        _MV, _MV.c.id == _AL.c.version_id
    )
    with ws.store.read() as conn:
        rows = conn.execute(query).mappings().all()
        aliases: dict[int, dict[str, int]] = defaultdict(dict)
        for a in conn.execute(alias_query.order_by(_AL.c.alias)):
            aliases[a.model_id][a.alias] = a.version
    return [
        RegisteredModel(
            id=r["id"],
            name=r["name"],
            description=r["description"],
            created_at=r["created_at"],
            latest_version=r["latest"],
            n_versions=r["n"] or 0,
            aliases=aliases.get(r["id"], {}),
        )
        for r in rows
    ]


def list_versions(ws: Workspace, name: str) -> list[ModelVersion]:
    """All versions of one model, oldest first."""
    with ws.store.read() as conn:
        model_id = model_id_of(conn, name)
        return _load_many(conn, _MV.c.model_id == model_id)


def champion(ws: Workspace, name: str) -> ModelVersion | None:
    """The version ``name@champion`` points at; None when the model or the alias does not exist.

    The no-regression gate compares a candidate with it; a first model has none.
    """
    with ws.store.read() as conn:
        row = conn.execute(
            sa.select(_AL.c.version_id)
            .join(_RM, _RM.c.id == _AL.c.model_id)
            .where(_RM.c.name == name, _AL.c.alias == Alias.CHAMPION.value)
        ).first()
        return None if row is None else _load(conn, _MV.c.id == row.version_id)


def version_by_id(ws: Workspace, version_id: int) -> ModelVersion:
    with ws.store.read() as conn:
        return _load(conn, _MV.c.id == version_id)


# -- helpers shared with the writers ------------------------------------------


def model_id_of(conn: Connection, name: str) -> int:
    model_id = conn.execute(sa.select(_RM.c.id).where(_RM.c.name == name)).scalar()
    if model_id is None:
        names = list(conn.execute(sa.select(_RM.c.name).order_by(_RM.c.name)).scalars())
        known = f"registered models: {', '.join(names)}" if names else "no model is registered yet"
        raise ModelNotFound(
            f"Expected the name of a registered model; got {name!r} ({known})."
            f"{did_you_mean(name, names)} "
            "Run `sluice models list` to see them, or `sluice run` to train and register one."
        )
    return int(model_id)


def version_of(conn: Connection, name: str, model_id: int, number: int) -> ModelVersion:
    found = _load_many(conn, sa.and_(_MV.c.model_id == model_id, _MV.c.version == number))
    if found:
        return found[0]
    numbers = list(
        conn.execute(
            sa.select(_MV.c.version).where(_MV.c.model_id == model_id).order_by(_MV.c.version)
        ).scalars()
    )
    have = f"its versions are {_ranges(numbers)}" if numbers else "it has no versions yet"
    raise VersionNotFound(
        f"Model {name!r} has no version {number}; {have}. "
        f"Run `sluice models show {name}` to see them, or use models:/{name}@champion."
    )


def _alias_target(conn: Connection, model_id: int, ref: ModelRef) -> int:
    assert ref.alias is not None
    rows = conn.execute(
        sa.select(_AL.c.alias, _AL.c.version_id).where(_AL.c.model_id == model_id)
    ).all()
    targets = {r.alias: r.version_id for r in rows}
    if ref.alias in targets:
        return int(targets[ref.alias])
    have = f"its aliases are {', '.join(sorted(targets))}" if targets else "it has no aliases"
    raise AliasNotFound(
        f"Model {ref.name!r} has no alias {ref.alias!r}; {have}.{did_you_mean(ref.alias, targets)} "
        f"Set it with `sluice models promote {ref.name} VERSION --alias {ref.alias}`, "
        f"or use models:/{ref.name}/VERSION."
    )


def _latest(conn: Connection, model_id: int) -> int:
    latest = conn.execute(
        sa.select(sa.func.max(_MV.c.version)).where(_MV.c.model_id == model_id)
    ).scalar()
    return int(latest or 0)


def _load(conn: Connection, where: Any) -> ModelVersion:
    found = _load_many(conn, where)
    if not found:  # pragma: no cover - ids come from the store itself
        raise VersionNotFound(f"No model version matches {where}.")
    return found[0]


def _load_many(conn: Connection, where: Any) -> list[ModelVersion]:
    query = (
        sa.select(_MV, _RM.c.name)
        .join(_RM, _RM.c.id == _MV.c.model_id)
        .where(where)
        .order_by(_MV.c.version)
    )
    rows = conn.execute(query).mappings().all()
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    aliases: dict[int, list[str]] = defaultdict(list)
    for a in conn.execute(
        sa.select(_AL.c.version_id, _AL.c.alias)
        .where(_AL.c.version_id.in_(ids))
        .order_by(_AL.c.alias)
    ):
        aliases[a.version_id].append(a.alias)
    return [_to_version(r, tuple(aliases.get(r["id"], ()))) for r in rows]


def _to_version(r: Any, aliases: tuple[str, ...]) -> ModelVersion:
    return ModelVersion(
        id=r["id"],
        name=r["name"],
        version=r["version"],
        artifact_hash=r["artifact_hash"],
        flavor=r["flavor"],
        signature=r["signature"],
        params=r["params"],
        metrics=r["metrics"],
        environment=r["environment"],
        created_at=r["created_at"],
        dataset_version_id=r["dataset_version_id"],
        pipeline_run_id=r["pipeline_run_id"],
        run_id=r["run_id"],
        git_commit=r["git_commit"],
        git_dirty=r["git_dirty"],
        seed=r["seed"],
        duration=r["duration"],
        card_hash=r["card_hash"],
        extra=r["extra"] or {},
        aliases=aliases,
    )


def _ranges(numbers: list[int]) -> str:
    if len(numbers) > 1 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]} to {numbers[-1]}"
    return ", ".join(str(n) for n in numbers)
