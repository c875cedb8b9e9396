"""Executors run step tasks; the engine decides what runs and records what happened.

An executor gets a :class:`~sluice.pipelines.task.StepTask` and returns its
:class:`~sluice.pipelines.task.StepOutcome`. Steps exchange data only through the
artifact store, so an executor may run the task anywhere that can reach the
workspace. :func:`check_executor` is the contract every executor, ours or a
plugin's, must pass.
"""

from __future__ import annotations

import abc
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sluice.errors import ConfigError
from sluice.pipelines.task import StepOutcome, StepTask, run_task

if TYPE_CHECKING:
    from sluice.workspace import Workspace


class Executor(abc.ABC):
    """Runs one step task and reports its outcome; never raises for a failing step.

    ``slots`` is how many steps it runs at once. With one, the engine calls
    :meth:`execute` in its own thread, one step after another. With more, it calls
    it from a thread per running step, so independent branches run at the same
    time; :meth:`cancel` is then called from the engine's thread when the run is
    interrupted, and must make the pending :meth:`execute` calls return soon.
    """

    name: str = "executor"
    slots: int = 1

    @abc.abstractmethod
    def execute(self, task: StepTask, ws: Workspace) -> StepOutcome: ...

    def cancel(self) -> None:  # noqa: B027 - optional: most executors hold nothing to stop
        """Stop the steps running now; their ``execute`` calls return or raise."""

    def close(self) -> None:  # noqa: B027
        """Release what the executor holds (connections, local processes)."""


class InProcessExecutor(Executor):
    """Runs each step in the calling thread: simple, debuggable, the default."""

    name = "local"

    def execute(self, task: StepTask, ws: Workspace) -> StepOutcome:
        return run_task(task, ws)


def check_executor(executor: Executor) -> None:
    """Contract test: run small real pipelines with ``executor`` in a throw-away workspace."""
    from sluice.pipelines import contract
    from sluice.workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="sluice-executor-check-") as home:
        ws = Workspace.at(home)
        try:
            contract.check_success(ws, executor)
            contract.check_failure(ws, executor)
            contract.check_retries(ws, executor)
            contract.check_cache(ws, executor)
        finally:
            ws.close()


def open_executor(spec: str | Mapping[str, Any] | None) -> Executor:
    """The executor a configuration names: ``local`` (default), ``dask``, or ``{dask: {...}}``.

    ``{dask: {address: tcp://HOST:PORT}}`` connects to a scheduler (``dask`` alone
    reads SLUICE_DASK_ADDRESS); ``{dask: {local_workers: N}}`` starts N worker
    processes on this machine. Close the executor when the run is done.
    """
    if spec is None or spec == "local":
        return InProcessExecutor()
    if spec == "dask":
        spec = {"dask": {}}
    if isinstance(spec, Mapping) and set(spec) == {"dask"}:
        options = spec["dask"] or {}
        if isinstance(options, Mapping) and set(options) <= {"address", "local_workers"}:
            from sluice.pipelines.dask_executor import DaskExecutor

            return DaskExecutor(options.get("address"), local_workers=options.get("local_workers"))
    raise ConfigError(
        f"executor: expected 'local', 'dask', {{dask: {{address: tcp://HOST:PORT}}}} or "
        f"{{dask: {{local_workers: N}}}}; got {spec!r}."
    )
