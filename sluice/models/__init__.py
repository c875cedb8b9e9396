"""The ML core: preprocessing, candidates, selection, evaluation, signature, persistence.

Names are imported lazily so that importing ``sluice.models`` does not load
scikit-learn until a function that needs it is called.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "dumps": "persistence",
    "loads": "persistence",
    "untrusted_types": "persistence",
    "build_preprocessor": "features",
    "build_model": "features",
    "FeatureSettings": "features",
    "Candidate": "candidates",
    "CandidateSettings": "candidates",
    "SearchSettings": "candidates",
    "candidates_for": "candidates",
    "select": "selection",
    "SelectionPolicy": "selection",
    "SelectionResult": "selection",
    "CandidateResult": "selection",
    "evaluate": "evaluation",
    "Evaluation": "evaluation",
    "EvaluationSettings": "evaluation",
    "Metric": "metrics",
    "get_metric": "metrics",
    "metric_names": "metrics",
    "Signature": "signature",
    "Task": "types",
    "Interpretability": "types",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sluice.models' has no attribute {name!r}")
    return getattr(importlib.import_module(f"sluice.models.{_EXPORTS[name]}"), name)
