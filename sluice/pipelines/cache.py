"""Cache keys of step calls, and finding an earlier completed call with the same key.

key = hash of (the step's code fingerprint, the versions of the libraries that
code uses and of those that read its inputs, its JSON parameters in canonical
form, the addresses of its inputs, its declared version and output names). Same
key, same outputs: a completed step run with that key is reused instead of
running the step again, provided its output blobs are still in the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from sluice.artifacts import content_hash
from sluice.pipelines.codehash import fingerprint, library_version
from sluice.pipelines.materializers import canonical_json, materializer_named
from sluice.pipelines.task import StoredArtifact
from sluice.pipelines.types import Status
from sluice.store import tables as t

if TYPE_CHECKING:
    from sluice.pipelines.dag import Node
    from sluice.workspace import Workspace


def cache_key(node: Node, inputs: Mapping[str, StoredArtifact]) -> str:
    """The cache key of one step call with these inputs."""
    code = fingerprint(node.step.fn)
    libraries = dict(code.libraries)
    libraries["python"] = library_version("python")
    for art in inputs.values():
        for lib in materializer_named(art.materializer).libraries:
            libraries[lib] = library_version(lib)
    payload = {
        "code": code.digest,
        "libraries": libraries,
        "params": node.params,
        "inputs": {name: art.hash for name, art in inputs.items()},
        "version": node.step.version,
        "outputs": list(node.step.outputs),
    }
    return content_hash(canonical_json(payload).encode())


Hit = tuple[str, dict[str, StoredArtifact]]


def _completed_outputs() -> sa.Select[Any]:
    sr, io, art = t.step_runs, t.step_io, t.artifacts
    return (
        sa.select(
            sr.c.id,
            sr.c.cache_key,
            io.c.name,
            io.c.artifact_hash,
            art.c.materializer,
            art.c.media_type,
            art.c.size,
        )
        .join(io, io.c.step_run_id == sr.c.id)
        .join(art, art.c.hash == io.c.artifact_hash)
        .where(sr.c.status == Status.COMPLETED.value, io.c.direction == "output")
        .order_by(sr.c.finished_at.desc(), sr.c.id)
    )


_BY_KEY = _completed_outputs().where(t.step_runs.c.cache_key == sa.bindparam("key"))
_BY_STEPS = _completed_outputs().where(
    t.step_runs.c.step.in_(sa.bindparam("steps", expanding=True))
)


class CacheIndex:
    """Completed step runs by cache key, read once per run for the steps of its graph.

    One query at the start of a run replaces one per step; a key not found there
    (a step run recorded under another name) is looked up on its own.
    """

    def __init__(self, ws: Workspace, steps: list[str]) -> None:
        self.ws = ws
        with ws.store.read() as conn:
            rows = conn.execute(_BY_STEPS, {"steps": steps}).all() if steps else []
        self.known = _group(rows)

    def find(self, key: str, outputs: tuple[str, ...]) -> Hit | None:
        """The newest completed step run with this key whose outputs are all still stored."""
        candidates = self.known.get(key)
        if candidates is None:
            with self.ws.store.read() as conn:
                candidates = _group(conn.execute(_BY_KEY, {"key": key}).all()).get(key, [])
        for run_id, found in candidates:
            if set(found) == set(outputs) and all(
                self.ws.artifacts.exists(a.hash) for a in found.values()
            ):
                return run_id, found
        return None


def _group(rows: Sequence[Any]) -> dict[str, list[Hit]]:
    """Rows (newest first) to key -> [(step run id, outputs)], newest first."""
    by_run: dict[str, tuple[str, dict[str, StoredArtifact]]] = {}
    for row in rows:
        stored = StoredArtifact(row.artifact_hash, row.materializer, row.media_type, row.size)
        by_run.setdefault(row.id, (row.cache_key, {}))[1][row.name] = stored
    grouped: dict[str, list[Hit]] = {}
    for run_id, (key, found) in by_run.items():
        grouped.setdefault(key, []).append((run_id, found))
    return grouped
