"""Executing a traced pipeline: for each step in order, reuse it or run it, and record it.

The runner owns ordering, caching and records; the executor only runs tasks. A
step that raises marks the run failed (later steps skipped) and raises
StepFailed naming the run and the command that resumes it. An interrupt marks
the run cancelled. Either way the records of the steps done so far are kept.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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
        if self.executor.slots > 1:
            self._run_concurrently()
            return
        total = len(self.graph.nodes)
        for index, node in enumerate(self.graph.nodes, 1):
            try:
                task = self._start(node, index, total)
                if task is not None:
                    self._finish(node, task, index, total, self._execute(task))
            except _Stop as stop:
                self._stop(stop, node, skip_from=index)
        self.recorder.finish(Status.COMPLETED)

    def _run_concurrently(self) -> None:
        """Start every step whose inputs are ready, up to the executor's slots at once.

        Records are written from this thread only; the pool's threads just wait on
        the executor. After a failure no new step starts, the running ones finish
        and are recorded, and the rest are skipped. An interrupt cancels the running
        steps where they run.
        """
        order = {node.name: index for index, node in enumerate(self.graph.nodes, 1)}
        waiting = list(self.graph.nodes)
        running: dict[Future[StepOutcome], tuple[Node, StepTask]] = {}
        stop: tuple[_Stop, Node] | None = None
        pool = ThreadPoolExecutor(self.executor.slots, thread_name_prefix="sluice-step")
        try:
            while True:
                if stop is None:
                    stop = self._launch(waiting, running, order, pool)
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: order[running[f][0].name]):
                    node, task = running.pop(future)
                    try:
                        outcome = self._outcome(future, task)
                        self._finish(node, task, order[node.name], len(order), outcome)
                    except _Stop as failed:
                        stop = stop or (failed, node)
        except BaseException as exc:
            self.executor.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            for _node, task in running.values():
                self._aborted(task, exc)
            self._skip(waiting)
            status = Status.FAILED if isinstance(exc, Exception) else Status.CANCELLED
            self.recorder.finish(status, f"{type(exc).__name__}: {exc}")
            raise
        pool.shutdown(wait=True)
        if stop is not None:
            self._stop(stop[0], stop[1], skipped=waiting)
        self.recorder.finish(Status.COMPLETED)

    def _launch(
        self,
        waiting: list[Node],
        running: dict[Future[StepOutcome], tuple[Node, StepTask]],
        order: Mapping[str, int],
        pool: ThreadPoolExecutor,
    ) -> tuple[_Stop, Node] | None:
        """Start (or take from the cache) every ready step there is a slot for."""
        while len(running) < self.executor.slots:
            ready = next((n for n in waiting if n.upstream <= self.results.keys()), None)
            if ready is None:
                return None
            waiting.remove(ready)
            try:
                task = self._start(ready, order[ready.name], len(order))
            except _Stop as failed:
                return failed, ready
            if task is not None:
                self.recorder.flush()
                running[pool.submit(self.executor.execute, task, self.ws)] = ready, task
        return None

    def _stop(
        self,
        stop: _Stop,
        node: Node,
        *,
        skip_from: int | None = None,
        skipped: list[Node] | None = None,
    ) -> None:
        rest = self.graph.nodes[skip_from:] if skip_from is not None else skipped or []
        self._skip(rest)
        self.recorder.finish(stop.status, stop.error)
        if stop.cause is not None:
            raise stop.cause from None
        raise StepFailed(stop.message, run_id=self.run_id, step=node.name) from None

    def _start(self, node: Node, index: int, total: int) -> StepTask | None:
        """Reuse the step (None) or record it as running and return its task."""
        inputs = self._inputs(node)
        key = cache_key(node, inputs)
        hit = self._reusable(node, key)
        step_run_id = new_id()
        if hit is not None:
            self._record_cached(node, step_run_id, key, inputs, hit)
            self._emit(EventKind.CACHED, node, index, total, cached_from=hit[0])
            return None
        self._record_running(node, step_run_id, key, inputs)
        self._emit(EventKind.STARTED, node, index, total)
        return StepTask(node.step, node.name, self.run_id, step_run_id, node.params, inputs)

    def _finish(
        self, node: Node, task: StepTask, index: int, total: int, outcome: StepOutcome
    ) -> None:
        outcome = _checked(outcome, node, self.executor)
        self._record_outcome(task.step_run_id, outcome)
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

    def _outcome(self, future: Future[StepOutcome], task: StepTask) -> StepOutcome:
        """The outcome of a step run in the pool; an executor that raised fails the step."""
        try:
            return future.result()
        except Exception as exc:
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

    def _skip(self, nodes: Iterable[Node]) -> None:
        for node in nodes:
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
