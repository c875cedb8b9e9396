"""Steps, pipelines, caching, lineage and resume.

Decorate functions with ``@step`` and wire them in a ``@pipeline`` function; run
it with ``my_pipeline.run(ws, **params)``. See ``docs/internals.md``.
"""

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from sluice.pipeline.context import StepContext, current_step
from sluice.pipeline.dag import Graph, Node, Output
from sluice.pipeline.definition import Pipeline, Step, pipeline, step
from sluice.pipeline.events import EventKind, StepEvent
from sluice.pipeline.executors import Executor, InProcessExecutor, check_executor
from sluice.pipeline.lineage import StepRef, consumers_of, producer_of
from sluice.pipeline.results import (
    PipelineRun,
    RunSummary,
    StepRunInfo,
    find_run_id,
    get_run,
    list_runs,
    step_logs,
)
from sluice.pipeline.resume import resume
from sluice.pipeline.task import StepOutcome, StepTask, StoredArtifact
from sluice.pipeline.types import Materializer, Status

__all__ = [
    "EventKind",
    "Executor",
    "Graph",
    "InProcessExecutor",
    "Materializer",
    "Node",
    "Output",
    "Pipeline",
    "PipelineRun",
    "RunSummary",
    "Status",
    "Step",
    "StepContext",
    "StepEvent",
    "StepOutcome",
    "StepRef",
    "StepRunInfo",
    "StepTask",
    "StoredArtifact",
    "check_executor",
    "consumers_of",
    "current_step",
    "find_run_id",
    "get_run",
    "list_runs",
    "pipeline",
    "producer_of",
    "resume",
    "step",
    "step_logs",
]


class _PipelinePackage(ModuleType):
    """This package, callable as the ``@pipeline`` decorator.

    ``sluice`` exports the decorator as ``sluice.pipeline``, the name of this
    package; once the package is imported, Python binds that name to the module.
    Calling the module therefore does what the decorator does, so that
    ``@sluice.pipeline`` works whatever was imported first.
    """

    def __call__(self, fn: Callable[..., Any]) -> Pipeline:
        return pipeline(fn)


sys.modules[__name__].__class__ = _PipelinePackage
