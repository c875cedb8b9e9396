"""Small typed events a run reports while it goes, for progress displays.

``Pipeline.run(ws, on_event=print)`` prints one readable line per event; the CLI
turns them into a progress display.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class EventKind(enum.StrEnum):
    STARTED = "started"
    FINISHED = "finished"
    CACHED = "cached"
    FAILED = "failed"


@dataclass(frozen=True)
class StepEvent:
    """Something happened to one step of a run. ``duration`` is in seconds."""

    kind: EventKind
    run_id: str
    step: str
    index: int
    total: int
    duration: float | None = None
    attempts: int = 0
    cached_from: str | None = None
    error: str | None = None

    def __str__(self) -> str:
        where = f"[{self.index}/{self.total}] {self.step}"
        if self.kind is EventKind.STARTED:
            return f"{where}: running"
        if self.kind is EventKind.CACHED:
            return f"{where}: cached (reused step run {self.cached_from})"
        if self.kind is EventKind.FAILED:
            return f"{where}: failed after {self.attempts} attempt(s): {self.error}"
        retried = f", {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{where}: done in {self.duration or 0:.2f}s{retried}"
