"""Checks made before the job writes anything: the data fits the configuration.

Each problem a user can cause with their data or ``sluice.yaml`` is found here,
before a dataset version, an artifact or a run exists, so a bad input exits 2
with a clear message and leaves the store exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sluice.errors import ColumnNotFound, ConfigError, DataError, did_you_mean
from sluice.templates.tabular.config import JobConfig

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Plan:
    """What the job learned from the data before running: task, metric, file hash."""

    task: str
    metric: str
    content_hash: str
    n_rows: int
    n_classes: int | None


def plan_job(config: JobConfig) -> Plan:
    """Read the data once and check it against the configuration; raise before anything runs."""
    from sluice.artifacts import hash_file
    from sluice.data import read_table
    from sluice.errors import DataFileNotFound

    if not config.data.path.exists():
        where = f" (data.path in {config.source}, relative to its folder)" if config.source else ""
        raise DataFileNotFound(
            f"Expected a data file at '{config.data.path}'{where}; found nothing there. "
            "Fix data.path in sluice.yaml."
        )
    frame = read_table(config.data.path)
    check_columns(frame, config)
    target = frame[config.data.target]
    task = config.data.task or infer_task(target)
    n_classes = _check_target(target, task, config)
    metric = config.selection.metric or default_metric(task)
    check_metric(metric, task)
    check_candidates(config, task)
    check_gates(config, task)
    return Plan(task, metric, hash_file(config.data.path), len(frame), n_classes)


def default_metric(task: str) -> str:
    """sluice.models' default: ROC AUC (one-vs-rest for multiclass) or RMSE."""
    from sluice.models.metrics import DEFAULT_METRIC
    from sluice.models.types import Task

    return DEFAULT_METRIC[Task(task)]


def check_columns(frame: pd.DataFrame, config: JobConfig) -> None:
    """The target, the time column and every column to drop must exist."""
    names = [str(c) for c in frame.columns]
    wanted = [("data.target", config.data.target)]
    if config.data.time_column:
        wanted.append(("data.time_column", config.data.time_column))
    wanted += [("data.drop", col) for col in config.data.drop]
    for key, col in wanted:
        if col not in names:
            raise ColumnNotFound(
                f"{key} names column {col!r}, but {config.data.path.name} has no such column "
                f"(it has {len(names)}: {_listing(names)}).{did_you_mean(col, names)} "
                "Fix the name in sluice.yaml."
            )
    if config.data.target in config.data.drop:
        raise ConfigError(
            f"data.drop lists the target {config.data.target!r}; expected only feature columns. "
            "Remove it from data.drop."
        )


def infer_task(target: pd.Series) -> str:
    """Classification for labels (text, booleans, or few distinct integers), else regression."""
    import pandas as pd

    values = target.dropna()
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return "classification"
    integral = pd.api.types.is_integer_dtype(values) or bool((values % 1 == 0).all())
    return "classification" if integral and values.nunique() <= 20 else "regression"


def _check_target(target: pd.Series, task: str, config: JobConfig) -> int | None:
    name = config.data.target
    present = target.dropna()
    if present.empty:
        raise DataError(
            f"Target column {name!r} must have values; got {len(target)} rows, all empty. "
            "Point data.target at the column to predict, or fill it in."
        )
    rows = len(present) if config.data.sample is None else min(len(present), config.data.sample)
    train_rows = int(rows * (1 - config.split.holdout))
    folds = config.selection.cv_folds
    if train_rows < folds * 2:
        raise DataError(
            f"Cross-validation with {folds} folds needs at least {folds * 2} training rows; "
            f"got {train_rows} ({rows} rows with a target, {config.split.holdout:.0%} held out). "
            "Add data or lower selection.cv_folds."
        )
    if task == "regression":
        if not _numeric(present):
            raise DataError(
                f"Regression needs a numeric target; column {name!r} holds "
                f"{present.dtype} values such as {present.iloc[0]!r}. "
                "Set data.task: classification, or choose a numeric target."
            )
        return None
    return _check_classes(present, name, folds)


def _check_classes(present: pd.Series, name: str, folds: int) -> int:
    counts = present.value_counts()
    if len(counts) < 2:
        raise DataError(
            f"Classification needs at least two classes in {name!r}; got one: "
            f"{counts.index[0]!r} in all {int(counts.iloc[0])} rows. "
            "Collect examples of the other class, or choose another target."
        )
    rare = counts[counts < folds]
    if len(rare):
        raise DataError(
            f"Each class of {name!r} needs at least {folds} rows for {folds}-fold "
            f"cross-validation; got {int(rare.iloc[0])} for class {rare.index[0]!r}. "
            "Add examples, merge rare classes, or lower selection.cv_folds."
        )
    return len(counts)


def check_metric(metric: str, task: str) -> None:
    """The selection metric must be one the task computes."""
    from sluice.models.metrics import metric_names

    names = list(metric_names(task))
    if metric not in names:
        raise ConfigError(
            f"selection.metric must be one of {', '.join(names)} for {task}; got {metric!r}."
            f"{did_you_mean(metric, names)} Fix selection.metric in sluice.yaml."
        )


def check_candidates(config: JobConfig, task: str) -> None:
    """Candidates named in selection.candidates must exist for the task (ModelError otherwise)."""
    from sluice.models.candidates import candidates_for

    if config.selection.candidates is not None:
        candidates_for(task, include=config.selection.candidates)


def check_gates(config: JobConfig, task: str) -> None:
    """Gates must name metrics the task computes (raises GateError otherwise)."""
    from sluice.gates import check_gates as check

    check(config.gates, task=task)


def _numeric(values: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(values)) and not pd.api.types.is_bool_dtype(values)


def _listing(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "")
