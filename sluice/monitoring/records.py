"""What the monitoring store hands out: monitors, their results and alerts, as frozen values."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sluice.monitoring.monitor_settings import MonitorSettings


class Status(enum.StrEnum):
    """The outcome of one window."""

    OK = "ok"
    DRIFT = "drift"
    DECAY = "decay"
    INSUFFICIENT = "insufficient"


@dataclass(frozen=True)
class Monitor:
    """What to watch (a model alias), over which windows, against which reference, and how."""

    id: int
    name: str
    model_name: str
    alias: str
    window: str
    settings: MonitorSettings
    actions: tuple[Mapping[str, Any], ...]
    created_at: float
    reference_version_id: int | None = None
    cursor: float | None = None

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model_name}@{self.alias}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "model": self.model_uri,
            "model_name": self.model_name,
            "alias": self.alias,
            "window": self.window,
            "reference_version_id": self.reference_version_id,
            "settings": self.settings.to_dict(),
            "actions": [dict(a) for a in self.actions],
            "cursor": self.cursor,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class MonitorResult:
    """One evaluated window: its status, the summary behind it and the HTML report's address."""

    id: int
    monitor_id: int
    window_start: float
    window_end: float
    rows: int
    status: Status
    summary: Mapping[str, Any]
    created_at: float
    model_version: int | None = None
    report_hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "monitor_id": self.monitor_id,
            "model_version": self.model_version,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "rows": self.rows,
            "status": self.status.value,
            "summary": dict(self.summary),
            "report_hash": self.report_hash,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Alert:
    """A finding that crossed a threshold, and what each action did about it."""

    id: int
    monitor_id: int
    result_id: int
    kind: str
    message: str
    actions: Sequence[Mapping[str, Any]]
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "monitor_id": self.monitor_id,
            "result_id": self.result_id,
            "kind": self.kind,
            "message": self.message,
            "actions": [dict(a) for a in self.actions],
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class RunOutcome:
    """What one ``run`` did: the windows evaluated (oldest first) and the alerts raised."""

    monitor: Monitor
    results: tuple[MonitorResult, ...] = ()
    alerts: tuple[Alert, ...] = ()
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor.name,
            "message": self.message,
            "results": [r.to_dict() for r in self.results],
            "alerts": [a.to_dict() for a in self.alerts],
        }
