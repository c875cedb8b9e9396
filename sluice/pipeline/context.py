"""``current_step()``: what a running step may know about itself.

The context lives in a ``contextvars`` variable set by the engine around each
step call, so it is right in threads and async code and absent everywhere else.
It also collects the step's log: messages given to ``log()`` and the ``logging``
records (INFO and above) the step emits on its own thread. To see INFO records
while the root logger is at WARNING, the root level is lowered during the step and
the root's other handlers get a filter that keeps what they saw before.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sluice.errors import PipelineError

if TYPE_CHECKING:
    from sluice.workspace import Workspace

_current: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar(
    "sluice_step", default=None
)


@dataclass
class StepContext:
    """The running step: its workspace, run ids, attempt number, and its log."""

    workspace: Workspace
    pipeline_run_id: str
    step_run_id: str
    step: str
    attempt: int = 0  # 1 on the first try, 2 on the first retry...
    lines: list[str] = field(default_factory=list)

    def log(self, message: str) -> None:
        """Keep a line in this step's log (shown by ``sluice runs logs``)."""
        self.lines.append(f"{_stamp(time.time())} {message}")

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def current_step() -> StepContext:
    """The step that is running now; PipelineError outside a step."""
    ctx = _current.get()
    if ctx is None:
        raise PipelineError(
            "Expected current_step() to be called inside a running step; got a call outside "
            "any step. Call it from a function decorated with @step while a pipeline runs."
        )
    return ctx


@contextlib.contextmanager
def entered(ctx: StepContext) -> Iterator[StepContext]:
    """Make ``ctx`` current and capture the thread's logging records into its log."""
    token = _current.set(ctx)
    root = logging.getLogger()
    old_level, others = root.level, list(root.handlers)
    guard = _AtLeast(old_level)
    if old_level > logging.INFO:  # keep the step's info lines, but only in its own log
        for other in others:
            other.addFilter(guard)
        root.setLevel(logging.INFO)
    handler = _Capture(ctx, threading.get_ident())
    root.addHandler(handler)
    try:
        yield ctx
    finally:
        root.removeHandler(handler)
        for other in others:
            other.removeFilter(guard)
        root.setLevel(old_level)
        _current.reset(token)


class _AtLeast(logging.Filter):
    """Lets through what the other handlers saw before the root level was lowered."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


class _Capture(logging.Handler):
    def __init__(self, ctx: StepContext, thread: int) -> None:
        super().__init__(logging.NOTSET)
        self.ctx = ctx
        self.thread = thread

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not fail the step
            message = str(record.msg)
        self.ctx.lines.append(
            f"{_stamp(record.created)} {record.levelname} {record.name}: {message}"
        )


def _stamp(when: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(when))
