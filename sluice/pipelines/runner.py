"""Executing a traced pipeline: for each step in order, reuse it or run it, and record it.

The runner owns ordering, caching and records; the executor only runs tasks. A
step that raises marks the run failed (later steps skipped) and raises
StepFailed naming the run and the command that resumes it. An interrupt marks
the run cancelled. Either way the records of the steps done so far are kept.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sluice.errors import StepFailed
from sluice.pipelines.cache import CacheIndex, cache_key
from sluice.pipelines.events import EventKind, StepEvent
from sluice.pipelines.executors import Executor, InProcessExecutor
from sluice.pipelines.materializers import is_json_value
from sluice.pipelines.records import RunRecorder, new_id
from sluice.pipelines.task import StepOutcome, StepTask, StoredArtifact, store_value
from sluice.pipelines.types import Status

if TYPE_CHECKING:
    from sluice.pipelines.dag import Graph, Node
    from sluice.pipelines.definition import Pipeline
    from sluice.pipelines.results import PipelineRun
    from sluice.workspace import Workspace

EventHandler = Callable[[StepEvent], Any]


@dataclass(frozen=True)
class Reusable:
    """A finished step of an earlier run that a resumed run may take over."""

    step_run_id: str
    cache_key: str
    outputs: Mapping[str, StoredArtifact]


@dataclass
class _Execution:
    ws: Workspace
    graph: Graph
    executor: Executor
    on_event: EventHandler | None
    reuse: Mapping[str, Reusable]
    recorder: RunRecorder
    cache: CacheIndex
    results: dict[str, Mapping[str, StoredArtifact]] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.recorder.run_id

    def run(self) -> None:
        total = len(self.graph.nodes)
        for index, node in enumerate(self.graph.nodes, 1):
            try:
                self._step(node, index, total)
            except _Stop as stop:
                self._skip_rest(index)
                self.recorder.finish(stop.status, stop.error)
                if stop.cause is not None:
                    raise stop.cause from None
                raise StepFailed(stop.message, run_id=self.run_id, step=node.name) from None
        self.recorder.finish(Status.COMPLETED)

    def _step(self, node: Node, index: int, total: int) -> None:
        inputs = self._inputs(node)
        key = cache_key(node, inputs)
        hit = self._reusable(node, key)
        step_run_id = new_id()
        if hit is not None:
            self._record_cached(node, step_run_id, key, inputs, hit)
            self._emit(EventKind.CACHED, node, index, total, cached_from=hit[0])
            return
        self._record_running(node, step_run_id, key, inputs)
        self._emit(EventKind.STARTED, node, index, total)
        task = StepTask(node.step, node.name, self.run_id, step_run_id, node.params, inputs)
        outcome = _checked(self._execute(task), node, self.executor)
        self._record_outcome(step_run_id, outcome)
        if not outcome.ok:
            self._emit(EventKind.FAILED, node, index, total, outcome=outcome)
            raise _Stop(Status.FAILED, self._failure_message(node, outcome), outcome.summary)
        self.results[node.name] = outcome.outputs
        self._emit(EventKind.FINISHED, node, index, total, outcome=outcome)

    def _inputs(self, node: Node) -> dict[str, StoredArtifact]:
        inputs = {arg: self.results[h.node][h.name] for arg, h in node.inputs.items()}
        for arg, value in node.literals.items():
            inputs[arg] = store_value(self.ws, value, f"argument '{arg}' of step '{node.name}'")
        return inputs

    def _reusable(self, node: Node, key: str) -> tuple[str, Mapping[str, StoredArtifact]] | None:
        earlier = self.reuse.get(node.name)
        if earlier is not None and earlier.cache_key == key:
            return earlier.step_run_id, earlier.outputs
        if not node.step.cache:
            return None
        return self.cache.find(key, node.step.outputs)

    def _execute(self, task: StepTask) -> StepOutcome:
        # Write the pending records first: the store shows the step as running, and
        # code inside the step can link to its step run (a tracked run, say).
        self.recorder.flush()
        try:
            return self.executor.execute(task, self.ws)
        except BaseException as exc:  # an interrupt, or a broken executor
            raise self._aborted(task, exc) from exc

    def _aborted(self, task: StepTask, exc: BaseException) -> _Stop:
        status = Status.FAILED if isinstance(exc, Exception) else Status.CANCELLED
        error = f"{type(exc).__name__}: {exc}"
        values = {"status": status.value, "error": error, "finished_at": time.time()}
        self.recorder.update_step(task.step_run_id, values)
        return _Stop(status, str(exc), error, cause=exc)

    def _record_cached(
        self,
        node: Node,
        step_run_id: str,
        key: str,
        inputs: Mapping[str, StoredArtifact],
        hit: tuple[str, Mapping[str, StoredArtifact]],
    ) -> None:
        origin, outputs = hit
        now = time.time()
        self.recorder.step(
            {
                "id": step_run_id,
                "step": node.name,
                "cache_key": key,
                "status": Status.CACHED.value,
                "cached_from": origin,
                "attempts": 0,
                "started_at": now,
                "finished_at": now,
                "duration": 0.0,
            }
        )
        self.recorder.io(step_run_id, "input", inputs)
        self.recorder.io(step_run_id, "output", outputs)
        self.results[node.name] = outputs

    def _record_running(
        self, node: Node, step_run_id: str, key: str, inputs: Mapping[str, StoredArtifact]
    ) -> None:
        self.recorder.step(
            {
                "id": step_run_id,
                "step": node.name,
                "cache_key": key,
                "status": Status.RUNNING.value,
                "attempts": 0,
                "started_at": time.time(),
            }
        )
        self.recorder.io(step_run_id, "input", inputs)

    def _record_outcome(self, step_run_id: str, outcome: StepOutcome) -> None:
        status = Status.COMPLETED if outcome.ok else Status.FAILED
        self.recorder.update_step(
            step_run_id,
            {
                "status": status.value,
                "attempts": outcome.attempts,
                "host": outcome.host,
                "error": outcome.error,
                "log": outcome.log,
                "started_at": outcome.started_at,
                "finished_at": outcome.finished_at,
                "duration": outcome.duration,
            },
        )
        if outcome.ok:
            self.recorder.io(step_run_id, "output", outcome.outputs)

    def _skip_rest(self, index: int) -> None:
        for node in self.graph.nodes[index:]:
            self.recorder.step(
                {
                    "id": new_id(),
                    "step": node.name,
                    "cache_key": "",
                    "status": Status.SKIPPED.value,
                    "attempts": 0,
                }
            )

    def _failure_message(self, node: Node, outcome: StepOutcome) -> str:
        error = (outcome.summary or "it raised").rstrip(".")
        return (
            f"Step '{node.name}' failed after {outcome.attempts} attempt(s) in run "
            f"{self.run_id}: {error}. The run is kept with the finished steps; "
            f"see `sluice runs logs {self.run_id} {node.name}`, fix the cause, then "
            f"`sluice runs resume {self.run_id}`."
        )

    def _emit(
        self,
        kind: EventKind,
        node: Node,
        index: int,
        total: int,
        *,
        outcome: StepOutcome | None = None,
        cached_from: str | None = None,
    ) -> None:
        if self.on_event is None:
            return
        self.on_event(
            StepEvent(
                kind,
                self.run_id,
                node.name,
                index,
                total,
                duration=outcome.duration if outcome else None,
                attempts=outcome.attempts if outcome else 0,
                cached_from=cached_from,
                error=outcome.summary if outcome else None,
            )
        )


def _checked(outcome: StepOutcome, node: Node, executor: Executor) -> StepOutcome:
    """The outcome, turned into a failure when a successful step lacks declared outputs."""
    if not outcome.ok or set(outcome.outputs) == set(node.step.outputs):
        return outcome
    summary = (
        f"PipelineError: executor '{executor.name}' returned outputs "
        f"{sorted(outcome.outputs)} for step '{node.name}', which declares "
        f"{list(node.step.outputs)}"
    )
    return dataclasses.replace(outcome, outputs={}, error=summary, summary=summary)


class _Stop(Exception):
    def __init__(
        self, status: Status, message: str, error: str | None, cause: BaseException | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.error, self.cause = status, message, error, cause


def run_pipeline(
    ws: Workspace,
    pipeline: Pipeline,
    params: Mapping[str, Any],
    *,
    on_event: EventHandler | None = None,
    executor: Executor | None = None,
    resumed_from: str | None = None,
    reuse: Mapping[str, Reusable] | None = None,
) -> PipelineRun:
    """Trace ``pipeline`` with ``params``, execute it, and return the recorded run."""
    from sluice.pipelines.results import get_run

    arguments = pipeline.bind(params)
    graph = pipeline.trace(**arguments)
    executor = executor or InProcessExecutor()
    recorder = RunRecorder(ws, new_id())
    record, stored = _params_record(ws, pipeline, arguments)
    recorder.start(pipeline.name, record, executor.name, resumed_from)
    recorder.artifacts(stored)
    names = [n.name for n in graph.nodes if n.step.cache]
    cache = CacheIndex(ws, names)
    execution = _Execution(ws, graph, executor, on_event, reuse or {}, recorder, cache)
    try:
        execution.run()
    except BaseException as exc:
        if not recorder.finished:  # the engine failed (store, a bad value), or Ctrl-C between steps
            status = Status.FAILED if isinstance(exc, Exception) else Status.CANCELLED
            recorder.finish(status, f"{type(exc).__name__}: {exc}")
        raise
    return get_run(ws, recorder.run_id)


def _params_record(
    ws: Workspace, pipeline: Pipeline, arguments: Mapping[str, Any]
) -> tuple[dict[str, Any], list[StoredArtifact]]:
    """What a run records about its parameters: JSON values, others as artifacts."""
    values: dict[str, Any] = {}
    artifacts: dict[str, dict[str, str]] = {}
    stored: list[StoredArtifact] = []
    for name, value in arguments.items():
        if is_json_value(value):
            values[name] = value
            continue
        art = store_value(ws, value, f"parameter '{name}' of pipeline '{pipeline.name}'")
        artifacts[name] = {"hash": art.hash, "materializer": art.materializer}
        stored.append(art)
    record = {"definition": pipeline.import_path, "params": values, "artifacts": artifacts}
    return record, stored
