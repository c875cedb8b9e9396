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
from typing import TYPE_CHECKING

from sluice.pipelines.task import StepOutcome, StepTask, run_task

if TYPE_CHECKING:
    from sluice.workspace import Workspace


class Executor(abc.ABC):
    """Runs one step task and reports its outcome; never raises for a failing step."""

    name: str = "executor"

    @abc.abstractmethod
    def execute(self, task: StepTask, ws: Workspace) -> StepOutcome: ...


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
