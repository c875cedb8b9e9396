"""Tracking: runs with params, metrics (value, step, timestamp) and tags.

::

    with sluice.tracking.start_run("rf", experiment="bike", params={"trees": 200}) as run:
        for epoch in range(100):
            log_metric("loss", loss, step=epoch)      # microseconds: rows are batched
    get_run(ws, run.id).metrics["loss"]              # durable once the block ends

Modules: :mod:`.run` (Run, start_run), :mod:`.active` (the current run, a
context variable), :mod:`.fluent` (functions on the current run), :mod:`.checks`
(what is accepted, decided at call time; NaN is refused), :mod:`.writer` (the
batching writer), :mod:`.links` (parent and pipeline ids), :mod:`.read`
(readers) and :mod:`.records` (what readers return).
"""

from sluice.tracking.active import active_run
from sluice.tracking.fluent import flush, log_metric, log_metrics, log_param, log_params, set_tag
from sluice.tracking.read import get_run, list_runs, metric_history
from sluice.tracking.records import MetricPoint, RunRecord, RunStatus
from sluice.tracking.run import Run, start_run

__all__ = [
    "MetricPoint",
    "Run",
    "RunRecord",
    "RunStatus",
    "active_run",
    "flush",
    "get_run",
    "list_runs",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "metric_history",
    "set_tag",
    "start_run",
]
