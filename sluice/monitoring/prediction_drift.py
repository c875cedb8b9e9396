"""Drift of the model's output: its predictions in a window against those on the reference.

A shift in what the model says can show a problem before any label arrives. The
reference predictions are computed once per model version and run; when the
model cannot predict on the reference (a column it needs is not in the reference
data), the result says so instead of failing the run.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sluice.errors import SluiceError
from sluice.models.types import Task
from sluice.monitoring.drift import column_drift
from sluice.monitoring.performance import label_text
from sluice.monitoring.results import ColumnDrift
from sluice.monitoring.settings import DriftSettings

COLUMN = "prediction"


def predictions_as_values(predictions: Any, task: str) -> pd.Series:
    """Numbers for a regression, class labels as text for a classifier."""
    if Task.parse(task) is Task.REGRESSION:
        return pd.Series(pd.to_numeric(pd.Series(predictions), errors="coerce"), name=COLUMN)
    return pd.Series([label_text(v) for v in predictions], name=COLUMN, dtype=object)


def reference_predictions(
    model: Any, frame: pd.DataFrame, task: str
) -> tuple[pd.Series | None, str]:
    """The model's predictions on the reference, or None and the reason they are missing."""
    if frame.empty:
        return None, "the reference has no rows"
    try:
        return predictions_as_values(model.predict(frame), task), ""
    except (SluiceError, ValueError, TypeError, KeyError) as exc:
        return None, f"the model could not predict on the reference data: {exc}"


def prediction_drift(
    reference: pd.Series, current: pd.Series, task: str, settings: DriftSettings
) -> ColumnDrift:
    """Column drift of the predictions: numeric for a regression, categorical for classes."""
    kind = "numeric" if Task.parse(task) is Task.REGRESSION else "categorical"
    return column_drift(
        reference.reset_index(drop=True),
        current.reset_index(drop=True),
        kind=kind,
        settings=settings,
        column=COLUMN,
    )
