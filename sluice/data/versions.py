"""Dataset versions in the metadata store: add, find, list, load.

A version is the exact bytes of a file, addressed by their BLAKE3 hash and kept
in the artifact store, with the schema and profile computed when it was added.
Adding the same bytes again returns the version that already holds them.

Nothing is written until the file has been read, profiled and understood, so a
file that cannot be read leaves no trace. Version numbers come from
``max(version) + 1`` inside the inserting transaction; two writers that race
for the same number hit the unique constraint and the loser tries again.
"""

from __future__ import annotations

import os
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from sluice.artifacts import hash_file
from sluice.data.infer import schema_from_profile
from sluice.data.profile import profile_table
from sluice.data.read import check_file, read_arrow, read_arrow_bytes, resolve_format, to_pandas
from sluice.data.schema import Schema
from sluice.errors import AlreadyExists, ConfigError, DataError, NotFound, did_you_mean
from sluice.store import audit
from sluice.store import tables as t
from sluice.store.sql import insert_ignore

if TYPE_CHECKING:
    import pandas as pd

    from sluice.workspace import Workspace

MATERIALIZER = "sluice.data.table"
MEDIA_TYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_RETRIES = 50


@dataclass(frozen=True)
class DatasetVersion:
    id: int
    name: str
    version: int
    content_hash: str
    artifact_hash: str
    source_uri: str
    format: str
    size_bytes: int
    n_rows: int
    n_cols: int
    schema: Schema
    profile: dict[str, Any] = field(repr=False)
    parent_id: int | None
    created_at: float

    @property
    def ref(self) -> str:
        """How users name it: ``name@version``."""
        return f"{self.name}@{self.version}"

    def to_dict(self, *, profile: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ref": self.ref,
            "name": self.name,
            "version": self.version,
            "content_hash": self.content_hash,
            "artifact_hash": self.artifact_hash,
            "source_uri": self.source_uri,
            "format": self.format,
            "size_bytes": self.size_bytes,
            "n_rows": self.n_rows,
            "n_cols": self.n_cols,
            "created_at": self.created_at,
            "schema": self.schema.to_dict(),
        }
        if profile:
            out["profile"] = self.profile
        return out


@dataclass(frozen=True)
class DatasetSummary:
    name: str
    n_versions: int
    latest: DatasetVersion

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_versions": self.n_versions,
            "latest": self.latest.to_dict(profile=False),
        }


def add_version(
    ws: Workspace,
    path: str | os.PathLike[str],
    name: str,
    *,
    format: str | None = None,
    target: str | None = None,
    time_column: str | None = None,
    source_uri: str | None = None,
) -> DatasetVersion:
    """Record the file as the next version of ``name``, or return the version with its bytes.

    ``source_uri`` says where the bytes came from when that is not ``path`` (a file
    uploaded to the team server keeps the name it had on the sender's machine)."""
    check_name(name)
    file = check_file(path)
    digest = hash_file(file)
    existing = _by_hash(ws, name, digest)
    if existing is not None:
        return existing
    table = read_arrow(file, format=format, dictionaries=True)
    profile = profile_table(table)
    schema = schema_from_profile(profile, target=target, time_column=time_column)
    fmt = _format_of(file, format)
    address = ws.put_file(file, media_type=MEDIA_TYPES[fmt], materializer=MATERIALIZER)
    if address != digest:
        raise DataError(
            f"Expected {str(file)!r} to stay unchanged while it was added; its bytes changed. "
            "Add it again once whatever writes it has finished."
        )
    row = {
        "content_hash": digest,
        "artifact_hash": address,
        "source_uri": source_uri or str(file.absolute()),
        "format": fmt,
        "size_bytes": file.stat().st_size,
        "n_rows": table.num_rows,
        "n_cols": table.num_columns,
        "schema": schema.to_dict(),
        "profile": profile,
    }
    return _insert(ws, name, row)


def get_version(ws: Workspace, ref: str) -> DatasetVersion:
    """A version by ``name`` (the latest) or ``name@N``."""
    name, number = parse_ref(ref)
    with ws.store.read() as conn:
        dataset_id = _dataset_id(conn, name)
        if dataset_id is None:
            names = list(conn.execute(sa.select(t.datasets.c.name)).scalars())
            raise NotFound(
                f"Expected a dataset named {name!r}; there is none.{did_you_mean(name, names)} "
                "See `sluice data list`, or add it with `sluice data add PATH --name NAME`."
            )
        query = _versions_query().where(t.dataset_versions.c.dataset_id == dataset_id)
        if number is None:
            query = query.order_by(t.dataset_versions.c.version.desc()).limit(1)
        else:
            query = query.where(t.dataset_versions.c.version == number)
        row = conn.execute(query).mappings().first()
        if row is None:
            known = list(
                conn.execute(
                    sa.select(t.dataset_versions.c.version)
                    .where(t.dataset_versions.c.dataset_id == dataset_id)
                    .order_by(t.dataset_versions.c.version)
                ).scalars()
            )
            raise NotFound(
                f"Expected version {number} of dataset {name!r}; it has versions "
                f"{', '.join(map(str, known)) or '(none)'}. "
                "Use one of them, or omit @N for the latest."
            )
    return _from_row(row)


def list_versions(ws: Workspace, name: str) -> list[DatasetVersion]:
    """Every version of one dataset, oldest first."""
    check_name(name)
    query = (
        _versions_query().where(t.datasets.c.name == name).order_by(t.dataset_versions.c.version)
    )
    with ws.store.read() as conn:
        rows = conn.execute(query).mappings().all()
    if not rows:
        get_version(ws, name)  # raises NotFound with a suggestion
    return [_from_row(r) for r in rows]


def list_datasets(ws: Workspace) -> list[DatasetSummary]:
    """Every dataset with its number of versions and its latest version, by name."""
    v = t.dataset_versions
    counts = (
        sa.select(
            v.c.dataset_id, sa.func.count().label("n"), sa.func.max(v.c.version).label("latest")
        )
        .group_by(v.c.dataset_id)
        .subquery()
    )
    query = (
        _versions_query()
        .add_columns(counts.c.n)
        .join(
            counts, sa.and_(counts.c.dataset_id == v.c.dataset_id, counts.c.latest == v.c.version)
        )
        .order_by(t.datasets.c.name)
    )
    with ws.store.read() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        DatasetSummary(name=r["name"], n_versions=int(r["n"]), latest=_from_row(r)) for r in rows
    ]


def load_frame(ws: Workspace, version: DatasetVersion | str) -> pd.DataFrame:
    """The version's data, read back from its stored bytes (hash-verified on the way)."""
    found = get_version(ws, version) if isinstance(version, str) else version
    data = ws.get(found.artifact_hash)
    return to_pandas(read_arrow_bytes(data, format=found.format, label=found.ref))


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``name`` -> (name, None); ``name@3`` -> (name, 3)."""
    name, sep, number = ref.partition("@")
    if not sep:
        return check_name(name), None
    if not number.isdigit() or int(number) < 1:
        raise ConfigError(
            f"Expected a dataset reference NAME or NAME@VERSION with a positive version number; "
            f"got {ref!r}. For example: bikes@2."
        )
    return check_name(name), int(number)


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"Expected a dataset name of letters, digits, '.', '_' or '-' (at most 200, starting "
            f"with a letter or digit); got {name!r}. For example: bike-sharing."
        )
    return name


def _format_of(file: Path, format: str | None) -> str:
    with open(file, "rb") as fh:
        return resolve_format(file.name, fh.read(4), format)


def _insert(ws: Workspace, name: str, row: dict[str, Any]) -> DatasetVersion:
    for attempt in range(_RETRIES):
        try:
            with ws.store.write() as conn:
                now = time.time()
                insert_ignore(conn, t.datasets, [{"name": name, "created_at": now}])
                dataset_id = _dataset_id(conn, name)
                latest = conn.execute(
                    sa.select(t.dataset_versions.c.id, t.dataset_versions.c.version)
                    .where(t.dataset_versions.c.dataset_id == dataset_id)
                    .order_by(t.dataset_versions.c.version.desc())
                    .limit(1)
                ).first()
                number = (latest.version + 1) if latest else 1
                conn.execute(
                    t.dataset_versions.insert().values(
                        dataset_id=dataset_id,
                        version=number,
                        parent_id=latest.id if latest else None,
                        created_at=now,
                        **row,
                    )
                )
                audit.append(
                    conn,
                    "dataset.version_added",
                    f"datasets:/{name}/{number}",
                    after={
                        "content_hash": row["content_hash"],
                        "rows": row["n_rows"],
                        "source": row["source_uri"],
                    },
                )
            break
        except AlreadyExists:
            existing = _by_hash(ws, name, row["content_hash"])
            if existing is not None:
                return existing  # a concurrent writer added the same bytes
            time.sleep(random.uniform(0.001, 0.01) * (attempt + 1))
    else:
        raise AlreadyExists(
            f"Expected to record a new version of {name!r}; {_RETRIES} concurrent writers kept "
            "taking the next number. Try again."
        )
    found = _by_hash(ws, name, row["content_hash"])
    assert found is not None
    return found


def _by_hash(ws: Workspace, name: str, digest: str) -> DatasetVersion | None:
    with ws.store.read() as conn:
        row = (
            conn.execute(
                _versions_query().where(
                    t.datasets.c.name == name, t.dataset_versions.c.content_hash == digest
                )
            )
            .mappings()
            .first()
        )
    return _from_row(row) if row else None


def _dataset_id(conn: sa.Connection, name: str) -> int | None:
    return conn.execute(sa.select(t.datasets.c.id).where(t.datasets.c.name == name)).scalar()


def _versions_query() -> sa.Select[Any]:
    return sa.select(t.dataset_versions, t.datasets.c.name).join(
        t.datasets, t.datasets.c.id == t.dataset_versions.c.dataset_id
    )


def _from_row(row: Any) -> DatasetVersion:
    return DatasetVersion(
        id=row["id"],
        name=row["name"],
        version=row["version"],
        content_hash=row["content_hash"],
        artifact_hash=row["artifact_hash"],
        source_uri=row["source_uri"],
        format=row["format"],
        size_bytes=int(row["size_bytes"]),
        n_rows=int(row["n_rows"]),
        n_cols=int(row["n_cols"]),
        schema=Schema.from_dict(row["schema"]),
        profile=row["profile"],
        parent_id=row["parent_id"],
        created_at=float(row["created_at"]),
    )
