"""The executor contract: ours passes it, a broken executor does not."""

from __future__ import annotations

import dataclasses

import pytest

from sluice.pipelines import Executor, InProcessExecutor, StepOutcome, StepTask, check_executor
from sluice.pipelines.task import run_task
from sluice.workspace import Workspace


def test_the_in_process_executor_meets_the_contract() -> None:
    check_executor(InProcessExecutor())


class ForgetsOutputs(Executor):
    """Runs the step but loses its second output: the contract must notice."""

    name = "forgetful"

    def execute(self, task: StepTask, ws: Workspace) -> StepOutcome:
        outcome = run_task(task, ws)
        kept = dict(list(outcome.outputs.items())[:1])
        return dataclasses.replace(outcome, outputs=kept)


class SwallowsFailures(Executor):
    """Reports every step as successful: the contract must notice."""

    name = "optimist"

    def execute(self, task: StepTask, ws: Workspace) -> StepOutcome:
        outcome = run_task(task, ws)
        return dataclasses.replace(outcome, error=None, summary=None)


class Raises(Executor):
    name = "raises"

    def execute(self, task: StepTask, ws: Workspace) -> StepOutcome:
        raise OSError("worker lost")


@pytest.mark.parametrize("broken", [ForgetsOutputs(), SwallowsFailures()])
def test_a_broken_executor_fails_the_contract(broken: Executor) -> None:
    with pytest.raises(AssertionError, match="executor contract: "):
        check_executor(broken)


def test_an_executor_that_raises_fails_the_run_and_keeps_the_record(ws: Workspace) -> None:
    from sluice.pipelines import Status, get_run, list_runs
    from sluice.pipelines.contract import sums

    with pytest.raises(OSError, match="worker lost"):
        sums.run(ws, executor=Raises())
    run = get_run(ws, list_runs(ws)[0].id)
    assert run.status is Status.FAILED and run.error == "OSError: worker lost"
    assert run.executor == "raises"
    assert run.step("numbers").status is Status.FAILED
    assert run.step("summarize").status is Status.SKIPPED
