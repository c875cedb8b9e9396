"""One step call as a self-contained task: read inputs, call, retry, store outputs.

A task holds only what is needed to run the step anywhere: the step (importable),
its JSON parameters and the addresses of its inputs. Inputs are read from the
artifact store and outputs written to it, so an executor may run the task in
another thread, process or machine; the outcome says what happened and never
raises for a failing step.
"""

from __future__ import annotations

import socket
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sluice.pipelines import materializers
from sluice.pipelines.context import StepContext, entered

if TYPE_CHECKING:
    from sluice.pipelines.definition import Step
    from sluice.pipelines.types import Materializer
    from sluice.workspace import Workspace


@dataclass(frozen=True)
class StoredArtifact:
    """An artifact in the store and how to read it back."""

    hash: str
    materializer: str
    media_type: str
    size: int


@dataclass(frozen=True)
class StepTask:
    step: Step
    node: str
    pipeline_run_id: str
    step_run_id: str
    params: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, StoredArtifact] = field(default_factory=dict)


@dataclass(frozen=True)
class StepOutcome:
    """What became of a task: outputs on success, the error's traceback on failure."""

    outputs: Mapping[str, StoredArtifact]
    log: str
    attempts: int
    started_at: float
    finished_at: float
    duration: float
    host: str
    error: str | None = None
    summary: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run_task(task: StepTask, ws: Workspace) -> StepOutcome:
    """Run a step with its retries and store its outputs; failures become the outcome."""
    ctx = StepContext(ws, task.pipeline_run_id, task.step_run_id, task.node)
    started, clock = time.time(), time.perf_counter()
    outputs: dict[str, StoredArtifact] = {}
    error = summary = None
    with entered(ctx):
        try:
            kwargs = {**task.params, **_load_inputs(ws, task.inputs)}
            outputs = _store_outputs(ws, task, _call_with_retries(task, kwargs, ctx))
        except Exception as exc:
            error, summary = traceback.format_exc(), _summary(exc)
            ctx.lines.append(error.rstrip())
    duration = time.perf_counter() - clock
    return StepOutcome(
        outputs,
        ctx.text,
        ctx.attempt,
        started,
        started + duration,
        duration,
        socket.gethostname(),
        error,
        summary,
    )


def _call_with_retries(task: StepTask, kwargs: dict[str, Any], ctx: StepContext) -> Any:
    while True:
        ctx.attempt += 1
        try:
            return task.step.fn(**kwargs)
        except Exception as exc:
            ctx.log(f"attempt {ctx.attempt} failed: {_summary(exc)}")
            if ctx.attempt > task.step.retries:
                raise


def _load_inputs(ws: Workspace, inputs: Mapping[str, StoredArtifact]) -> dict[str, Any]:
    return {
        name: materializers.load(art.materializer, ws.get(art.hash)) for name, art in inputs.items()
    }


def _store_outputs(ws: Workspace, task: StepTask, result: Any) -> dict[str, StoredArtifact]:
    names = task.step.outputs
    if len(names) == 1:
        values = (result,)
    elif isinstance(result, tuple | list) and len(result) == len(names):
        values = tuple(result)
    else:
        from sluice.errors import PipelineError

        raise PipelineError(
            f"Expected step '{task.node}' to return a tuple of {len(names)} values "
            f"({', '.join(names)}); got {type(result).__name__}. Return them in that order."
        )
    # serialize every output before storing any, so a bad one leaves no blob behind
    saved = {
        name: materializers.save(value, f"output '{name}' of step '{task.node}'")
        for name, value in zip(names, values, strict=True)
    }
    return {name: _put(ws, materializer, data) for name, (materializer, data) in saved.items()}


def store_value(ws: Workspace, value: Any, what: str) -> StoredArtifact:
    """Materialize a value into the artifact store (the index row is written by the run)."""
    materializer, data = materializers.save(value, what)
    return _put(ws, materializer, data)


def _put(ws: Workspace, materializer: Materializer, data: bytes) -> StoredArtifact:
    address = ws.artifacts.put_bytes(data)
    return StoredArtifact(address, materializer.name, materializer.media_type, len(data))


def _summary(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
