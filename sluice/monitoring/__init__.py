"""Monitoring: is production still like the reference, and is the model still right?

Two levels, kept apart:

* drift statistics: settings (``DriftSettings``), pure functions (``column_drift``,
  ``dataset_drift``) and typed results (``ColumnDrift``, ``DatasetDrift``);
  ``check_drift_statistic`` is the contract any drift statistic, ours or a
  plugin's, must pass. These import only NumPy, SciPy, pandas and ``sluice.errors``.
  ``dataset_drift_dask`` gives ``dataset_drift``'s figures for a current window
  of partitioned Parquet, on a Dask cluster; Dask (``pip install 'sluice[dask]'``)
  is imported when it is called, not here.
* monitors: ``create_monitor`` stores what to watch (a model alias, a window, a
  reference, thresholds in ``MonitorSettings``, alert actions); ``run_monitor``
  reads the prediction log window by window, compares inputs, predictions and
  (with feedback) performance against the reference, stores a ``MonitorResult``
  per window and raises ``Alert``s (log, signed webhook, retraining through a
  callable the caller passes). These use the store, the registry, the data
  versions and the prediction log.
"""

from sluice.monitoring.alerts import Retrain, sign, verify
from sluice.monitoring.contracts import DriftStatistic, check_drift_statistic
from sluice.monitoring.dataset import dataset_drift
from sluice.monitoring.drift import column_drift
from sluice.monitoring.drift_dask import dataset_drift_dask
from sluice.monitoring.monitor_settings import ALERT_KINDS, MonitorSettings
from sluice.monitoring.monitor_store import (
    alerts_of,
    get_monitor,
    latest_results,
    list_monitors,
    result_by_id,
)
from sluice.monitoring.monitors import RenderReport, create_monitor, run_monitor
from sluice.monitoring.records import Alert, Monitor, MonitorResult, RunOutcome, Status
from sluice.monitoring.results import ColumnDrift, DatasetDrift
from sluice.monitoring.settings import DriftSettings
from sluice.monitoring.window_spec import WindowSpec, parse_window

__all__ = [
    "ALERT_KINDS",
    "Alert",
    "ColumnDrift",
    "DatasetDrift",
    "DriftSettings",
    "DriftStatistic",
    "Monitor",
    "MonitorResult",
    "MonitorSettings",
    "RenderReport",
    "Retrain",
    "RunOutcome",
    "Status",
    "WindowSpec",
    "alerts_of",
    "check_drift_statistic",
    "column_drift",
    "create_monitor",
    "dataset_drift",
    "dataset_drift_dask",
    "get_monitor",
    "latest_results",
    "list_monitors",
    "parse_window",
    "result_by_id",
    "run_monitor",
    "sign",
    "verify",
]
