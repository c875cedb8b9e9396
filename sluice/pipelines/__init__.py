"""Steps, pipelines, caching, lineage and resume.

Decorate functions with ``@step`` and wire them in a ``@pipeline`` function; run
it with ``my_pipeline.run(ws, **params)``. See ``docs/internals.md``.

The package is named ``pipelines`` so that ``sluice.pipeline`` can be the decorator:
a subpackage of the same name would take that attribute over once imported.
"""

from sluice.pipelines.context import StepContext, current_step
from sluice.pipelines.dag import Graph, Node, Output
from sluice.pipelines.dask_executor import DaskExecutor
from sluice.pipelines.definition import Pipeline, Step, pipeline, step
from sluice.pipelines.events import EventKind, StepEvent
from sluice.pipelines.executors import Executor, InProcessExecutor, check_executor, open_executor
from sluice.pipelines.lineage import StepRef, consumers_of, producer_of
from sluice.pipelines.results import (
    PipelineRun,
    RunSummary,
    StepRunInfo,
    find_run_id,
    get_run,
    list_runs,
    step_logs,
)
from sluice.pipelines.resume import resume
from sluice.pipelines.task import StepOutcome, StepTask, StoredArtifact
from sluice.pipelines.types import Materializer, Status

__all__ = [
    "DaskExecutor",
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
    "open_executor",
    "pipeline",
    "producer_of",
    "resume",
    "step",
    "step_logs",
]
