"""sluice: versioned data in; a validated, selected, evaluated, gated and registered model out.

The names below are the whole public Python API. They are imported lazily so that
``import sluice`` (and ``sluice --help``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "step": "sluice.pipelines",
    "pipeline": "sluice.pipelines",
    "start_run": "sluice.tracking",
    "log_param": "sluice.tracking",
    "log_params": "sluice.tracking",
    "log_metric": "sluice.tracking",
    "log_metrics": "sluice.tracking",
    "set_tag": "sluice.tracking",
    "load_model": "sluice.registry",
    "connect": "sluice.client",
    "Workspace": "sluice.workspace",
    "SluiceError": "sluice.errors",
}

__all__ = [
    "SluiceError",
    "Workspace",
    "connect",
    "load_model",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "pipeline",
    "set_tag",
    "start_run",
    "step",
]

if TYPE_CHECKING:
    from sluice.client import connect
    from sluice.errors import SluiceError
    from sluice.pipelines import pipeline, step
    from sluice.registry import load_model
    from sluice.tracking import (
        log_metric,
        log_metrics,
        log_param,
        log_params,
        set_tag,
        start_run,
    )
    from sluice.workspace import Workspace


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sluice' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])
