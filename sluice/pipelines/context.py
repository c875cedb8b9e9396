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
    handler = _Capture(ctx, threading.get_ident())
    _root.enter(handler)
    try:
        yield ctx
    finally:
        _root.leave(handler)
        _current.reset(token)


class _RootLogger:
    """Lowers the root level while any step runs, in any thread, and restores it after the last.

    Steps may run in several threads at once and end in any order; each saving and
    restoring the level on its own would leave it lowered for good.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.saved_level = logging.NOTSET
        self.guarded: list[tuple[logging.Handler, _AtLeast]] = []

    def enter(self, capture: _Capture) -> None:
        root = logging.getLogger()
        with self.lock:
            if self.running == 0:
                self.saved_level = root.level
                if root.level > logging.INFO:  # keep the steps' info lines, only in their logs
                    guard = _AtLeast(root.level)
                    self.guarded = [(other, guard) for other in root.handlers]
                    for other, _ in self.guarded:
                        other.addFilter(guard)
                    root.setLevel(logging.INFO)
            self.running += 1
            root.addHandler(capture)

    def leave(self, capture: _Capture) -> None:
        root = logging.getLogger()
        with self.lock:
            root.removeHandler(capture)
            self.running -= 1
            if self.running == 0:
                for other, guard in self.guarded:
                    other.removeFilter(guard)
                self.guarded = []
                root.setLevel(self.saved_level)


_root = _RootLogger()


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
