"""Drift statistics: is the current window of data distributed like the reference?

Settings (``DriftSettings``), pure functions (``column_drift``, ``dataset_drift``)
and typed results (``ColumnDrift``, ``DatasetDrift``) are kept apart.
``check_drift_statistic`` is the contract any drift statistic, ours or a
plugin's, must pass. This package
imports only NumPy, SciPy, pandas and ``sluice.errors``.
"""

from sluice.monitoring.contracts import DriftStatistic, check_drift_statistic
from sluice.monitoring.dataset import dataset_drift
from sluice.monitoring.drift import column_drift
from sluice.monitoring.results import ColumnDrift, DatasetDrift
from sluice.monitoring.settings import DriftSettings

__all__ = [
    "ColumnDrift",
    "DatasetDrift",
    "DriftSettings",
    "DriftStatistic",
    "check_drift_statistic",
    "column_drift",
    "dataset_drift",
]
