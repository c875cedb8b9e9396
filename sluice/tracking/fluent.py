"""The fluent functions: the same calls as on a :class:`Run`, acting on the current run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sluice.tracking.active import require_active
from sluice.tracking.writer import flush_all, writer_of

if TYPE_CHECKING:
    from sluice.workspace import Workspace


def log_param(key: str, value: Any) -> None:
    """Record a parameter of the current run (immutable once logged)."""
    require_active("log_param").log_param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    """Record several parameters of the current run at once."""
    require_active("log_params").log_params(params)


def log_metric(
    key: str, value: float, step: int | None = None, timestamp: float | None = None
) -> None:
    """Record one value of a metric in the current run; costs microseconds."""
    require_active("log_metric").log_metric(key, value, step, timestamp)


def log_metrics(
    metrics: Mapping[str, float], step: int | None = None, timestamp: float | None = None
) -> None:
    """Record several metric values in the current run, with one step and timestamp."""
    require_active("log_metrics").log_metrics(metrics, step, timestamp)


def set_tag(key: str, value: Any) -> None:
    """Set a tag of the current run (tags, unlike params, may change)."""
    require_active("set_tag").set_tag(key, value)


def flush(workspace: Workspace | None = None) -> None:
    """Write the rows still buffered: those of ``workspace``, or of every workspace."""
    if workspace is None:
        flush_all()
        return
    writer = writer_of(workspace.store)
    if writer is not None:
        writer.flush()
