"""Resuming a failed run: finished steps are taken over, the failed one and later run again.

The new run records ``resumed_from``. The pipeline definition is re-imported from
the ``module:qualname`` the failed run recorded (or given explicitly), and re-traced
with the same parameters, so a fix to the failed step's code takes effect while
unchanged upstream steps are reused even when their cache is off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from sluice.errors import PipelineError
from sluice.pipelines.definition import Pipeline, import_object
from sluice.pipelines.materializers import load
from sluice.pipelines.results import PipelineRun, get_run
from sluice.pipelines.runner import Reusable, run_pipeline
from sluice.pipelines.task import StoredArtifact
from sluice.pipelines.types import Status
from sluice.store import tables as t

if TYPE_CHECKING:
    from sluice.pipelines.events import StepEvent
    from sluice.pipelines.executors import Executor
    from sluice.workspace import Workspace


def resume(
    ws: Workspace,
    run_id: str,
    *,
    pipeline: Pipeline | None = None,
    on_event: Callable[[StepEvent], Any] | None = None,
    executor: Executor | None = None,
) -> PipelineRun:
    """Re-run a failed run from its failed step, as a new run that records ``resumed_from``."""
    failed = get_run(ws, run_id)
    if failed.status is not Status.FAILED:
        raise PipelineError(
            f"Expected a failed run to resume; run {failed.id} is {failed.status.value}. "
            "Only failed runs can be resumed; to run the pipeline again, call its run() "
            "(finished steps come from the cache)."
        )
    definition = pipeline or _definition(failed)
    params = {**failed.params, **_artifact_params(ws, failed.id)}
    return run_pipeline(
        ws,
        definition,
        params,
        on_event=on_event,
        executor=executor,
        resumed_from=failed.id,
        reuse=_reusable(ws, failed),
    )


def _definition(run: PipelineRun) -> Pipeline:
    if not run.definition:
        raise PipelineError(
            f"Expected run {run.id} to record where its pipeline is defined; it does not. "
            "Pass the pipeline: resume(ws, run_id, pipeline=my_pipeline)."
        )
    obj = import_object(run.definition)
    if not isinstance(obj, Pipeline):
        raise PipelineError(
            f"Expected '{run.definition}' to be a @pipeline; got {type(obj).__name__}. "
            "Pass the pipeline: resume(ws, run_id, pipeline=my_pipeline)."
        )
    return obj


def _artifact_params(ws: Workspace, run_id: str) -> dict[str, Any]:
    """Parameters that were not JSON values, read back from the artifacts they were saved as."""
    pr = t.pipeline_runs
    with ws.store.read() as conn:
        record = conn.execute(sa.select(pr.c.params).where(pr.c.id == run_id)).scalar_one()
    stored = (record or {}).get("artifacts", {})
    return {name: load(a["materializer"], ws.get(a["hash"])) for name, a in stored.items()}


def _reusable(ws: Workspace, run: PipelineRun) -> dict[str, Reusable]:
    finished = [s for s in run.steps if s.status in (Status.COMPLETED, Status.CACHED)]
    if not finished:
        return {}
    hashes = {h for s in finished for h in s.outputs.values()}
    art = t.artifacts
    with ws.store.read() as conn:
        rows = conn.execute(sa.select(art).where(art.c.hash.in_(hashes))).all()
    index = {r.hash: StoredArtifact(r.hash, r.materializer, r.media_type, r.size) for r in rows}
    return {
        s.name: Reusable(
            s.cached_from or s.id, s.cache_key, {n: index[h] for n, h in s.outputs.items()}
        )
        for s in finished
        if all(ws.artifacts.exists(h) for h in s.outputs.values())
    }
