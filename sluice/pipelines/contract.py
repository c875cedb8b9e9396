"""Small real pipelines that :func:`~sluice.pipelines.executors.check_executor` runs.

They live at module level so that an executor running steps in other processes
can import them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sluice.errors import StepFailed
from sluice.pipelines.context import current_step
from sluice.pipelines.definition import pipeline, step
from sluice.pipelines.results import get_run
from sluice.pipelines.types import Status

if TYPE_CHECKING:
    from sluice.pipelines.executors import Executor
    from sluice.workspace import Workspace


@step
def numbers(n: int) -> list[int]:
    current_step().log(f"making {n} numbers")
    return list(range(n))


@step(outputs=("total", "count"))
def summarize(values: list[int]) -> tuple[int, int]:
    return sum(values), len(values)


@step
def explode(values: list[int]) -> int:
    raise ValueError(f"contract failure after {len(values)} values")


@step(retries=2)
def flaky(values: list[int]) -> int:
    marker = Path(current_step().workspace.settings.home) / f"flaky-{current_step().step_run_id}"
    if not marker.exists():
        marker.touch()
        raise RuntimeError("first attempt fails on purpose")
    return len(values)


@pipeline
def sums(n: int = 5) -> dict[str, Any]:
    total, count = summarize(numbers(n))
    return {"total": total, "count": count}


@pipeline
def failing(n: int = 3) -> None:
    explode(numbers(n))


@pipeline
def retrying(n: int = 4) -> None:
    flaky(numbers(n))


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(f"executor contract: {message}")


def check_success(ws: Workspace, executor: Executor) -> None:
    try:
        run = sums.run(ws, executor=executor, n=5)
    except StepFailed as exc:
        raise AssertionError(f"executor contract: a correct pipeline must succeed: {exc}") from exc
    _expect(run.status is Status.COMPLETED, f"run should complete, got {run.status}")
    _expect(run.output("summarize", "total") == 10, "outputs must reach the artifact store")
    _expect(run.output("summarize", "count") == 5, "every declared output must be stored")
    _expect("making 5 numbers" in (run.step("numbers").log or ""), "step logs must be kept")
    _expect(run.step("numbers").attempts == 1, "one attempt for a step that succeeds")


def check_failure(ws: Workspace, executor: Executor) -> None:
    try:
        failing.run(ws, executor=executor, n=3)
    except StepFailed as exc:
        run = get_run(ws, exc.run_id or "")
        _expect(exc.step == "explode", f"StepFailed must name the step, got {exc.step}")
        _expect(run.status is Status.FAILED, "a failed step fails the run")
        _expect(
            "contract failure after 3" in (run.step("explode").error or ""),
            "the error and its traceback must be stored",
        )
        _expect(run.step("numbers").status is Status.COMPLETED, "earlier steps stay completed")
        return
    raise AssertionError("executor contract: a step that raises must raise StepFailed")


def check_retries(ws: Workspace, executor: Executor) -> None:
    run = retrying.run(ws, executor=executor, n=4)
    _expect(run.step("flaky").attempts == 2, "a retried step records its attempts")
    _expect(run.output("flaky") == 4, "the successful attempt's output is kept")


def check_cache(ws: Workspace, executor: Executor) -> None:
    run = sums.run(ws, executor=executor, n=6)
    again = sums.run(ws, executor=executor, n=6)
    _expect(all(s.cached for s in again.steps), "a second identical run is fully cached")
    _expect(
        again.output("summarize", "total") == run.output("summarize", "total"),
        "cached outputs are the same artifacts",
    )
