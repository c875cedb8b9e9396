"""Reading runs back: a run with its steps, summaries for listings, step logs.

``PipelineRun.output(step, name)`` loads a step's output from the artifact store
through the materializer it was saved with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from sluice.errors import ConfigError, NotFound, PipelineError, did_you_mean
from sluice.pipelines.materializers import load
from sluice.pipelines.types import Status
from sluice.store import tables as t

if TYPE_CHECKING:
    from sluice.workspace import Workspace


@dataclass(frozen=True)
class StepRunInfo:
    """One step of a run as recorded. ``inputs``/``outputs`` map names to artifact hashes."""

    id: str
    name: str
    status: Status
    cache_key: str
    cached_from: str | None
    attempts: int
    host: str | None
    started_at: float | None
    finished_at: float | None
    duration: float | None
    error: str | None
    log: str | None
    inputs: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)

    @property
    def cached(self) -> bool:
        return self.status is Status.CACHED

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status.value,
            "cached": self.cached,
            "cached_from": self.cached_from,
            "cache_key": self.cache_key,
            "attempts": self.attempts,
            "host": self.host,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration": self.duration,
            "error": self.error,
            "inputs": dict(self.inputs),
            "outputs": dict(self.outputs),
        }


@dataclass(frozen=True)
class PipelineRun:
    """One recorded execution of a pipeline."""

    id: str
    pipeline: str
    status: Status
    params: Mapping[str, Any]
    definition: str | None
    executor: str
    resumed_from: str | None
    error: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    steps: tuple[StepRunInfo, ...]
    workspace: Workspace = field(repr=False, compare=False)

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def cache_hits(self) -> int:
        return sum(s.cached for s in self.steps)

    def step(self, name: str) -> StepRunInfo:
        for info in self.steps:
            if info.name == name:
                return info
        names = [s.name for s in self.steps]
        raise PipelineError(
            f"Expected a step of run {self.id}; got '{name}'. Steps: {', '.join(names)}."
            f"{did_you_mean(name, names)}"
        )

    def output(self, step: str, name: str | None = None) -> Any:
        """Load an output of a step (the only one when ``name`` is omitted)."""
        info = self.step(step)
        if name is None and len(info.outputs) == 1:
            name = next(iter(info.outputs))
        if name is None or name not in info.outputs:
            choices = list(info.outputs)
            raise PipelineError(
                f"Expected an output of step '{step}' ({', '.join(choices) or 'none recorded'}); "
                f"got {name!r}.{did_you_mean(str(name), choices)}"
            )
        address = info.outputs[name]
        with self.workspace.store.read() as conn:
            materializer = conn.execute(
                sa.select(t.artifacts.c.materializer).where(t.artifacts.c.hash == address)
            ).scalar_one()
        return load(materializer, self.workspace.get(address))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pipeline": self.pipeline,
            "status": self.status.value,
            "params": dict(self.params),
            "definition": self.definition,
            "executor": self.executor,
            "resumed_from": self.resumed_from,
            "error": self.error,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration": self.duration,
            "cache_hits": self.cache_hits,
            "steps": [s.to_dict() for s in self.steps],
        }


@dataclass(frozen=True)
class RunSummary:
    """A line of ``sluice runs list``."""

    id: str
    pipeline: str
    status: Status
    created_at: float
    duration: float | None
    steps: int
    cache_hits: int
    resumed_from: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pipeline": self.pipeline,
            "status": self.status.value,
            "created_at": self.created_at,
            "duration": self.duration,
            "steps": self.steps,
            "cache_hits": self.cache_hits,
            "resumed_from": self.resumed_from,
        }


def find_run_id(ws: Workspace, ref: str) -> str:
    """The full id of the run whose id is or starts with ``ref`` (at least 4 characters)."""
    pr = t.pipeline_runs
    ref = ref.strip().lower()
    matches: list[str] = []
    if len(ref) >= 4:
        with ws.store.read() as conn:
            matches = list(
                conn.execute(
                    sa.select(pr.c.id)
                    .where(pr.c.id.startswith(ref, autoescape=True))
                    .order_by(pr.c.id)
                    .limit(5)
                ).scalars()
            )
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise PipelineError(
            f"Expected a run id prefix that names one run; got {ref!r}, the start of "
            f"{', '.join(matches)}. Give more characters."
        )
    raise NotFound(
        f"Expected the id of a pipeline run (or its first characters, at least 4); got "
        f"{ref!r}, which matches no run. List runs with `sluice runs list`."
    )


def get_run(ws: Workspace, run_id: str) -> PipelineRun:
    """A run with its steps; ``run_id`` may be a unique prefix."""
    run_id = find_run_id(ws, run_id)
    pr, sr, io = t.pipeline_runs, t.step_runs, t.step_io
    with ws.store.read() as conn:
        row = conn.execute(sa.select(pr).where(pr.c.id == run_id)).one()
        steps = conn.execute(sa.select(sr).where(sr.c.pipeline_run_id == run_id)).all()
        ios = conn.execute(
            sa.select(io)
            .join(sr, sr.c.id == io.c.step_run_id)
            .where(sr.c.pipeline_run_id == run_id)
        ).all()
    by_step: dict[tuple[str, str], dict[str, str]] = {}
    for item in ios:
        by_step.setdefault((item.step_run_id, item.direction), {})[item.name] = item.artifact_hash
    infos = [_step_info(s, by_step) for s in steps]
    infos.sort(key=lambda s: (s.started_at is None, s.started_at or 0.0))
    params = row.params or {}
    return PipelineRun(
        row.id,
        row.pipeline,
        Status(row.status),
        params.get("params", {}),
        params.get("definition"),
        row.executor,
        row.resumed_from,
        row.error,
        row.created_at,
        row.started_at,
        row.finished_at,
        tuple(infos),
        ws,
    )


def _step_info(row: Any, io: Mapping[tuple[str, str], dict[str, str]]) -> StepRunInfo:
    return StepRunInfo(
        row.id,
        row.step,
        Status(row.status),
        row.cache_key,
        row.cached_from,
        row.attempts,
        row.host,
        row.started_at,
        row.finished_at,
        row.duration,
        row.error,
        row.log,
        io.get((row.id, "input"), {}),
        io.get((row.id, "output"), {}),
    )


def list_runs(
    ws: Workspace,
    *,
    limit: int = 50,
    offset: int = 0,
    pipeline: str | None = None,
    status: Status | None = None,
    sort: str = "created",
    descending: bool = True,
) -> list[RunSummary]:
    """Runs, newest first unless ``sort`` (created, duration, pipeline or status) and
    ``descending`` say otherwise, ``offset`` of them skipped, with step and cache-hit
    counts.

    The page of runs is chosen first and only its steps are counted, so a page costs
    the same with ten runs in the store or a hundred thousand.
    """
    pr, sr = t.pipeline_runs, t.step_runs
    keys = {
        "created": pr.c.created_at,
        "duration": pr.c.finished_at - pr.c.started_at,
        "pipeline": pr.c.pipeline,
        "status": pr.c.status,
    }
    if sort not in keys:
        raise ConfigError(
            f"Expected runs to be sorted by one of {', '.join(keys)}; got {sort!r}."
            f"{did_you_mean(sort, list(keys))}"
        )
    key = keys[sort].desc() if descending else keys[sort].asc()
    tie = pr.c.id.desc() if descending else pr.c.id.asc()
    page = sa.select(pr.c.id).order_by(key, tie)
    if pipeline is not None:
        page = page.where(pr.c.pipeline == pipeline)
    if status is not None:
        page = page.where(pr.c.status == status.value)
    hits = sa.func.sum(sa.case((sr.c.status == Status.CACHED.value, 1), else_=0))
    query = (
        sa.select(
            pr.c.id,
            pr.c.pipeline,
            pr.c.status,
            pr.c.created_at,
            pr.c.started_at,
            pr.c.finished_at,
            pr.c.resumed_from,
            sa.func.count(sr.c.id).label("steps"),
            hits.label("hits"),
        )
        .outerjoin(sr, sr.c.pipeline_run_id == pr.c.id)
        .group_by(pr.c.id)
    )
    with ws.store.read() as conn:
        ids = list(conn.execute(page.limit(limit).offset(offset)).scalars())
        found = conn.execute(query.where(pr.c.id.in_(ids))).all() if ids else []
    order = {run_id: i for i, run_id in enumerate(ids)}  # the page's order
    rows = sorted(found, key=lambda r: order[r.id])
    return [
        RunSummary(
            r.id,
            r.pipeline,
            Status(r.status),
            r.created_at,
            None if r.finished_at is None or r.started_at is None else r.finished_at - r.started_at,
            int(r.steps),
            int(r.hits or 0),
            r.resumed_from,
        )
        for r in rows
    ]


def step_logs(ws: Workspace, run_id: str, step: str | None = None) -> dict[str, str]:
    """Each step's log in run order (or only ``step``'s); a cached step shows its origin's."""
    run = get_run(ws, run_id)
    steps = [run.step(step)] if step is not None else list(run.steps)
    origins = _logs_of(ws, [s.cached_from for s in steps if s.cached_from])
    logs = {}
    for info in steps:
        if info.cached_from:
            note = f"(cached: output reused from step run {info.cached_from}, whose log follows)"
            logs[info.name] = "\n".join(filter(None, [note, origins.get(info.cached_from)]))
        else:
            logs[info.name] = info.log or ""
    return logs


def _logs_of(ws: Workspace, step_run_ids: list[str]) -> dict[str, str]:
    if not step_run_ids:
        return {}
    sr = t.step_runs
    with ws.store.read() as conn:
        rows = conn.execute(sa.select(sr.c.id, sr.c.log).where(sr.c.id.in_(step_run_ids)))
        return {row.id: row.log or "" for row in rows}
