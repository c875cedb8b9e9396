"""The current run of the fluent API, kept in a ``contextvars`` variable.

This is the only place that knows about an implicit current run. A context
variable, unlike a module global, is separate per thread and per asyncio task:
a run started in one thread is not the current run of another, so concurrent
work never logs into a stranger's run. Pass a :class:`Run` explicitly to share
it across threads.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

from sluice.errors import TrackingError

if TYPE_CHECKING:
    from sluice.tracking.run import Run

_active: ContextVar[Run | None] = ContextVar("sluice_active_run", default=None)


def active_run() -> Run | None:
    """The run that the fluent functions act on here, or None."""
    return _active.get()


def activate(run: Run) -> Run | None:
    """Make ``run`` current; returns the run that was current before."""
    previous = _active.get()
    _active.set(run)
    return previous


def deactivate(run: Run, previous: Run | None) -> None:
    """When ``run`` is current, go back to the innermost earlier run still open."""
    if _active.get() is not run:
        return
    while previous is not None and previous.ended:
        previous = previous.previous
    _active.set(previous)


def require_active(action: str) -> Run:
    """The current run, or TrackingError saying how to start one."""
    run = _active.get()
    if run is None:
        raise TrackingError(
            f"{action}() needs an active run; none is active in this thread or task. "
            f"Start one first: `with sluice.start_run():` then call {action}() inside, or "
            f"call it on a run object (run.{action}(...))."
        )
    return run
