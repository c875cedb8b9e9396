"""The step context and its log capture, also when steps run in several threads at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from sluice.errors import PipelineError
from sluice.pipelines import StepContext, current_step
from sluice.pipelines.context import entered
from sluice.workspace import Workspace


@pytest.fixture
def root_at_warning() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.WARNING)
    yield root
    root.setLevel(before)


def test_current_step_outside_a_step() -> None:
    with pytest.raises(PipelineError) as info:
        current_step()
    assert str(info.value) == (
        "Expected current_step() to be called inside a running step; got a call outside any "
        "step. Call it from a function decorated with @step while a pipeline runs."
    )


def test_steps_ending_out_of_order_in_threads_restore_the_root_level(
    ws: Workspace, root_at_warning: logging.Logger
) -> None:
    """A enters, B enters, A leaves, B leaves: the root level must end where it began."""
    log = logging.getLogger("threads")
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    contexts = {name: StepContext(ws, "p" * 32, name * 32, name) for name in "ab"}
    levels: dict[str, int] = {}

    def step_a() -> None:
        with entered(contexts["a"]):
            a_in.set()
            b_in.wait(5)
            log.info("a says hello")
        a_out.set()

    def step_b() -> None:
        a_in.wait(5)
        with entered(contexts["b"]):
            b_in.set()
            a_out.wait(5)
            levels["b after a left"] = root_at_warning.level
            log.info("b says hello")

    threads = [threading.Thread(target=step_a), threading.Thread(target=step_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert levels == {"b after a left": logging.INFO}, "b still runs, so info lines are kept"
    assert root_at_warning.level == logging.WARNING
    assert [h for h in root_at_warning.handlers if type(h).__name__ == "_Capture"] == []
    assert contexts["a"].text.endswith("INFO threads: a says hello")
    assert contexts["b"].text.endswith("INFO threads: b says hello")
    assert "b says" not in contexts["a"].text and "a says" not in contexts["b"].text
