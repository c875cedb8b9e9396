"""Retraining on fresh data: the served version's training data plus the labelled log.

When a monitor sees the model decay, the answer is the main job again, on the
most recent rows: the data the served version was trained on, followed by every
prediction that has received its label since. The new rows become the next
version of the same dataset, so lineage and validation against the previous
version work as for any run. The candidate then faces the same gates as any
other, ``no_regression`` against the current champion on the same (newest)
holdout; it is registered only when every gate passes, and the alias moves only
then, and only when ``promote`` is asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sluice.errors import MonitorError
from sluice.templates.tabular.config import JobConfig
from sluice.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Retraining:
    """What a retraining did: the run, the data it used, the verdict and any promotion."""

    run_id: str
    dataset_rows: int
    new_rows: int
    gates_passed: bool
    registered: str | None  # the new version's URI, when every gate passed
    promoted: bool
    alias: str
    report_path: Path
    gates: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "dataset_rows": self.dataset_rows,
            "new_rows": self.new_rows,
            "gates_passed": self.gates_passed,
            "registered": self.registered,
            "promoted": self.promoted,
            "alias": self.alias,
            "report": str(self.report_path),
            "gates": self.gates,
        }


def retrain(
    ws: Workspace,
    config: JobConfig,
    *,
    alias: str = "champion",
    window_rows: int | None = None,
    promote: bool = False,
    on_event: Callable[[Any], Any] | None = None,
) -> Retraining:
    """Run the main job on the served version's data plus the labelled log, newest
    ``window_rows`` rows kept; move ``alias`` to the new version when asked and allowed."""
    from sluice.registry import resolve, set_alias
    from sluice.templates.tabular.pipeline import run_job

    model_name = config.model.name
    served = resolve(ws, f"models:/{model_name}@{alias}")
    frame, new_rows = fresh_data(ws, config, served.dataset_version_id, window_rows)
    path = _write(ws, model_name, frame)
    data = config.data.model_copy(update={"path": path, "sample": None})
    result = run_job(ws, config.model_copy(update={"data": data}), on_event=on_event)
    summary = result.summary
    registered = (summary.get("registered") or {}).get("uri")
    gates = list(summary.get("gates") or [])
    passed = bool(gates) and all(g["passed"] for g in gates) and result.exit_code == 0
    promoted = False
    if promote and passed and registered:
        set_alias(ws, model_name, int(summary["registered"]["version"]), alias)
        promoted = True
    return Retraining(
        run_id=result.run_id,
        dataset_rows=len(frame),
        new_rows=new_rows,
        gates_passed=passed,
        registered=registered,
        promoted=promoted,
        alias=alias,
        report_path=result.report_path,
        gates=gates,
    )


def fresh_data(
    ws: Workspace, config: JobConfig, dataset_version_id: int | None, window_rows: int | None
) -> tuple[pd.DataFrame, int]:
    """The served version's training rows followed by the labelled log; the newest
    ``window_rows`` of them, in time order when the data has a time column."""
    import pandas as pd

    from sluice.data import load_frame
    from sluice.monitoring.reference import dataset_version_by_id
    from sluice.predictions import read_labelled

    if dataset_version_id is None:
        raise MonitorError(
            f"Expected the served version of {config.model.name!r} to record its training "
            "data; it has none, so there is nothing to retrain from. Run `sluice run` instead."
        )
    base = load_frame(ws, dataset_version_by_id(ws, dataset_version_id))
    target = config.data.target
    labelled = read_labelled(ws, config.model.name)
    new = labelled.inputs.assign(**{target: labelled.meta["label"].to_numpy()})
    new = new[[c for c in new.columns if c in base.columns]]
    for column in new.columns:
        new[column] = _like(new[column], base[column])
    frame = pd.concat([base, new], ignore_index=True)
    time_column = config.data.time_column
    if time_column and time_column in frame.columns:
        order = pd.to_datetime(frame[time_column], errors="coerce", format="mixed")
        frame = frame.iloc[order.argsort(kind="stable")].reset_index(drop=True)
    if window_rows is not None and len(frame) > window_rows:
        frame = frame.iloc[-window_rows:].reset_index(drop=True)
    return frame, len(new)


def _like(values: pd.Series, reference: pd.Series) -> pd.Series:
    """``values`` in the representation of the stored data's column, so both concatenate:
    dates as text stay text, text dates become dates, numbers stay numbers."""
    import pandas as pd

    is_date = pd.api.types.is_datetime64_any_dtype
    if is_date(reference) and not is_date(values):
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        if reference.dt.tz is None and parsed.dt.tz is not None:
            parsed = parsed.dt.tz_localize(None)
        return parsed.astype(reference.dtype)
    if is_date(values) and not is_date(reference):
        dates_only = bool((values.dropna() == values.dropna().dt.normalize()).all())
        return values.dt.strftime("%Y-%m-%d" if dates_only else "%Y-%m-%dT%H:%M:%S")
    if pd.api.types.is_numeric_dtype(reference) and not pd.api.types.is_numeric_dtype(values):
        return pd.to_numeric(values, errors="coerce")
    return values


def _write(ws: Workspace, model_name: str, frame: pd.DataFrame) -> Path:
    """The retraining data as a Parquet file in the workspace's home (kept for lineage)."""
    folder = Path(ws.settings.home) / "retraining"
    folder.mkdir(parents=True, exist_ok=True)
    path = (
        folder / f"{model_name}-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**6}.parquet"
    )
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def retrain_from_log(ws: Workspace, monitor: Any, result: Any) -> dict[str, Any]:
    """A monitor's retrain action: the main job of the action's ``config`` on fresh data.

    The action (stored with the monitor) may set ``window_rows`` (keep the newest
    rows only) and ``promote`` (move the monitored alias when every gate passes).
    """
    from sluice.templates.tabular.config import load_config

    action = next((a for a in monitor.actions if a.get("type") == "retrain"), None)
    if action is None or not action.get("config"):
        raise MonitorError(
            f"Expected monitor {monitor.name!r} to have a retrain action with a config; it has "
            "none. Recreate it with --retrain path/to/sluice.yaml."
        )
    config = load_config(action["config"])
    if config.model.name != monitor.model_name:
        raise MonitorError(
            f"Expected {action['config']} to train {monitor.model_name!r}, the model monitor "
            f"{monitor.name!r} watches; it trains {config.model.name!r}. Point --retrain at "
            "that model's sluice.yaml."
        )
    window = action.get("window_rows")
    done = retrain(
        ws,
        config,
        alias=monitor.alias,
        window_rows=int(window) if window else None,
        promote=bool(action.get("promote", False)),
    )
    return done.to_dict()
