"""What the readers hand back: a run's state, one point of a metric's history.

Plain frozen dataclasses, separate from the live :class:`~sluice.tracking.run.Run`
so that reading a run never drags in the writer, and so that the CLI and reports
can turn them into JSON with ``to_dict()``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    """Where a run is in its life. Stored as the lower-case value."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"


@dataclass(frozen=True)
class MetricPoint:
    """One logged value of a metric."""

    step: int
    value: float
    timestamp: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunRecord:
    """A run as stored: identity, links, status, times, params, latest metrics, tags.

    ``metrics`` holds each metric's latest value: the one at the highest step,
    ties broken by the later timestamp, then by the later write.
    """

    id: str
    name: str | None
    experiment: str
    status: RunStatus
    start_time: float
    end_time: float | None
    parent_id: str | None = None
    pipeline_run_id: str | None = None
    step_run_id: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or None while the run is open."""
        return None if self.end_time is None else self.end_time - self.start_time

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["duration"] = self.duration
        return data
