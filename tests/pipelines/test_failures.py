"""A failing step: the run is kept and failed; resume re-runs from the failed step; retries."""

from __future__ import annotations

import os
import sys

import pytest

from sluice.errors import PipelineError, StepFailed
from sluice.pipelines import EventKind, Status, StepEvent, get_run, list_runs, resume, step_logs
from sluice.workspace import Workspace
from tests.pipelines.conftest import WriteModule

FLOW = """
    from sluice.pipelines import current_step, pipeline, step

    @step
    def extract(n: int) -> list:
        return list(range(n))

    @step
    def transform(values: list) -> list:
        {transform_body}

    @step
    def load(values: list) -> int:
        return sum(values)

    @pipeline
    def etl(n: int = 5):
        load(transform(extract(n)))
"""
BROKEN = 'raise ValueError(f"bad row {values[-1]}")'
FIXED = "return [v * 2 for v in values]"


def _fail(ws: Workspace, module) -> StepFailed:
    with pytest.raises(StepFailed) as caught:
        module.etl.run(ws, n=5)
    return caught.value


def test_a_failing_step_fails_the_run_and_says_how_to_resume(
    ws: Workspace, write_module: WriteModule
) -> None:
    error = _fail(ws, write_module(FLOW.format(transform_body=BROKEN)))

    assert error.step == "transform" and error.run_id is not None
    assert error.exit_code == 1
    assert str(error) == (
        f"Step 'transform' failed after 1 attempt(s) in run {error.run_id}: ValueError: bad "
        f"row 4. The run is kept with the finished steps; see `sluice runs logs "
        f"{error.run_id} transform`, fix the cause, then `sluice runs resume {error.run_id}`."
    )
    run = get_run(ws, error.run_id)
    assert run.status is Status.FAILED
    assert run.error == "ValueError: bad row 4"
    assert [(s.name, s.status) for s in run.steps] == [
        ("extract", Status.COMPLETED),
        ("transform", Status.FAILED),
        ("load", Status.SKIPPED),
    ]
    failed = run.step("transform")
    assert failed.error is not None and "Traceback" in failed.error and "bad row 4" in failed.error
    assert "ValueError: bad row 4" in step_logs(ws, run.id, "transform")["transform"]


def test_resume_after_a_fix_reuses_finished_steps_and_reruns_the_rest(
    ws: Workspace, write_module: WriteModule
) -> None:
    module = write_module(FLOW.format(transform_body=BROKEN))
    error = _fail(ws, module)
    write_module(FLOW.format(transform_body=FIXED), name=module.__name__)  # the user's fix

    resumed = resume(ws, error.run_id or "")

    failed = get_run(ws, error.run_id or "")
    assert resumed.resumed_from == failed.id and resumed.status is Status.COMPLETED
    assert [(s.name, s.status) for s in resumed.steps] == [
        ("extract", Status.CACHED),
        ("transform", Status.COMPLETED),
        ("load", Status.COMPLETED),
    ]
    assert resumed.step("extract").cached_from == failed.step("extract").id
    assert resumed.output("load") == 20
    assert resumed.params == {"n": 5}


def test_resume_reuses_finished_steps_even_when_their_cache_is_off(
    ws: Workspace, write_module: WriteModule
) -> None:
    source = FLOW.replace("@step\n    def extract", "@step(cache=False)\n    def extract")
    module = write_module(source.format(transform_body=BROKEN))
    error = _fail(ws, module)
    write_module(source.format(transform_body=FIXED), name=module.__name__)
    resumed = resume(ws, error.run_id or "")
    assert resumed.step("extract").status is Status.CACHED


def test_resume_of_a_run_that_did_not_fail_is_refused(
    ws: Workspace, write_module: WriteModule
) -> None:
    run = write_module(FLOW.format(transform_body=FIXED)).etl.run(ws)
    with pytest.raises(PipelineError) as caught:
        resume(ws, run.id)
    assert str(caught.value) == (
        f"Expected a failed run to resume; run {run.id} is completed. Only failed runs can "
        "be resumed; to run the pipeline again, call its run() (finished steps come from "
        "the cache)."
    )


def test_resume_says_how_to_fix_a_definition_that_cannot_be_imported(
    ws: Workspace, write_module: WriteModule
) -> None:
    module = write_module(FLOW.format(transform_body=BROKEN))
    error = _fail(ws, module)
    assert module.__file__ is not None
    os.remove(module.__file__)
    sys.modules.pop(module.__name__)
    with pytest.raises(PipelineError) as caught:
        resume(ws, error.run_id or "")
    assert f"Expected to import '{module.__name__}:etl'; got ModuleNotFoundError" in str(
        caught.value
    )
    assert "add it to PYTHONPATH" in str(caught.value)
    fixed = write_module(FLOW.format(transform_body=FIXED))
    assert resume(ws, error.run_id or "", pipeline=fixed.etl).status is Status.COMPLETED


def test_retries_are_counted_and_logged(ws: Workspace, write_module: WriteModule) -> None:
    module = write_module(
        """
        from sluice.pipelines import current_step, pipeline, step

        calls = []

        @step(retries=3)
        def flaky(n: int) -> int:
            calls.append(current_step().attempt)
            if len(calls) < 3:
                raise ConnectionError(f"try {len(calls)} failed")
            return n

        @step(retries=1)
        def hopeless(n: int) -> int:
            raise RuntimeError("never works")

        @pipeline
        def good(n: int = 1):
            flaky(n)

        @pipeline
        def bad(n: int = 1):
            hopeless(n)
        """
    )
    run = module.good.run(ws)
    info = run.step("flaky")
    assert (info.status, info.attempts) == (Status.COMPLETED, 3)
    assert module.calls == [1, 2, 3]
    assert "attempt 1 failed: ConnectionError: try 1 failed" in (info.log or "")
    assert "attempt 2 failed: ConnectionError: try 2 failed" in (info.log or "")

    with pytest.raises(StepFailed, match=r"failed after 2 attempt\(s\)") as caught:
        module.bad.run(ws)
    assert get_run(ws, caught.value.run_id or "").step("hopeless").attempts == 2


def test_an_interrupt_cancels_the_run(ws: Workspace, write_module: WriteModule) -> None:
    module = write_module(
        """
        from sluice.pipelines import pipeline, step

        @step
        def stop(n: int) -> int:
            raise KeyboardInterrupt

        @pipeline
        def p(n: int = 1):
            stop(n)
        """
    )
    with pytest.raises(KeyboardInterrupt):
        module.p.run(ws)
    run = get_run(ws, list_runs(ws)[0].id)
    assert run.status is Status.CANCELLED
    assert run.step("stop").status is Status.CANCELLED


def test_an_interrupt_between_steps_cancels_the_run_and_keeps_finished_steps(
    ws: Workspace, write_module: WriteModule
) -> None:
    """Ctrl-C in a progress display, say: the run must not stay 'running' with its records lost."""
    module = write_module(
        """
        from sluice.pipelines import pipeline, step

        @step
        def one(n: int) -> int:
            return n

        @step
        def two(x: int) -> int:
            return x + 1

        @pipeline
        def p(n: int = 1):
            two(one(n))
        """
    )

    def interrupt_after_the_first_step(event: StepEvent) -> None:
        if event.kind is EventKind.FINISHED:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        module.p.run(ws, on_event=interrupt_after_the_first_step)
    run = get_run(ws, list_runs(ws)[0].id)
    assert (run.status, run.error) == (Status.CANCELLED, "KeyboardInterrupt: ")
    assert [(s.name, s.status) for s in run.steps] == [("one", Status.COMPLETED)]
    assert run.output("one") == 1


def test_a_pipeline_defined_in_a_script_cannot_be_reimported_and_says_what_to_do() -> None:
    from sluice.pipelines.definition import import_object

    with pytest.raises(PipelineError) as caught:
        import_object("__main__:no_such_pipeline")
    assert str(caught.value) == (
        "Expected to import '__main__:no_such_pipeline'; it was defined in a script run "
        "directly, which another process cannot import. Move the pipeline into a module, or "
        "pass it: resume(ws, run_id, pipeline=my_pipeline)."
    )
