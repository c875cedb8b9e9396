"""Schema inference: the kind and role of every column, and the task the target implies.

Inference works from a profile (:mod:`sluice.data.profile`), so that a dataset
version is read once for both. The rules, in order, for each column:

- the named target is ``target``; the named time column is ``time``;
- at most one distinct value: ``constant`` (nothing to learn from);
- a date or timestamp: ``time`` (models derive calendar features from it);
- integers or text, never missing, every value different, at least 20 rows:
  ``id`` (a row counter such as ``instant`` or a customer number predicts
  nothing that generalises);
- everything else: ``feature``.

The task follows from the target: booleans, text and categories, any target with
at most two values, and integer targets with at most 20 values are
classification; other numbers are regression.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sluice.data.profile import profile_frame
from sluice.data.schema import ColumnKind, ColumnSchema, Role, Schema
from sluice.errors import ColumnNotFound, ConfigError, DataError, did_you_mean

if TYPE_CHECKING:
    import pandas as pd

TASKS = ("classification", "regression")
ID_MIN_ROWS = 20
MAX_CLASSES = 20


def infer_schema(
    df: pd.DataFrame,
    *,
    target: str | None = None,
    time_column: str | None = None,
    task: str | None = None,
) -> Schema:
    """The inferred schema of a DataFrame; ``task`` overrides what the target implies."""
    return schema_from_profile(profile_frame(df), target=target, time_column=time_column, task=task)


def schema_from_profile(
    profile: Mapping[str, Any],
    *,
    target: str | None = None,
    time_column: str | None = None,
    task: str | None = None,
) -> Schema:
    columns: Mapping[str, Mapping[str, Any]] = profile["columns"]
    for label, name in (("target", target), ("time column", time_column)):
        if name is not None and name not in columns:
            raise ColumnNotFound(
                f"Expected the {label} {name!r} among the data's columns; it is not one of "
                f"{len(columns)}: {', '.join(columns)}.{did_you_mean(name, columns)} "
                f"Fix the {label} name (names are case-sensitive)."
            )
    n_rows = int(profile["n_rows"])
    schema_columns = tuple(
        _column(name, stats, _role(name, stats, n_rows, target, time_column))
        for name, stats in columns.items()
    )
    resolved = (
        _check_task(task) if task else (infer_task(target, columns[target]) if target else None)
    )
    return Schema(columns=schema_columns, target=target, time_column=time_column, task=resolved)


def infer_task(name: str, stats: Mapping[str, Any]) -> str | None:
    """'classification' or 'regression' from the target's statistics; None if all missing."""
    n_unique = int(stats.get("n_unique") or 0)
    if n_unique == 0:
        return None
    kind = ColumnKind(stats["kind"])
    if kind == ColumnKind.DATETIME:
        raise DataError(
            f"Expected a numeric, boolean or categorical target; {name!r} holds dates. "
            "Choose another target, or derive a number from the dates first."
        )
    if kind != ColumnKind.NUMERIC or n_unique <= 2:
        return "classification"
    if stats.get("integer") and n_unique <= MAX_CLASSES:
        return "classification"
    return "regression"


def _check_task(task: str) -> str:
    if task not in TASKS:
        raise ConfigError(
            f"Expected task to be one of {', '.join(TASKS)}; got {task!r}."
            f"{did_you_mean(task, TASKS)}"
        )
    return task


def _role(
    name: str, stats: Mapping[str, Any], n_rows: int, target: str | None, time_column: str | None
) -> Role:
    if name == target:
        return Role.TARGET
    if name == time_column:
        return Role.TIME
    n_unique = int(stats.get("n_unique") or 0)
    if n_unique <= 1:
        return Role.CONSTANT
    kind = ColumnKind(stats["kind"])
    if kind == ColumnKind.DATETIME:
        return Role.TIME
    idish = stats.get("integer") or kind in (ColumnKind.TEXT, ColumnKind.CATEGORICAL)
    complete = stats.get("n_missing") == 0 and not stats.get("n_unique_estimated")
    if idish and complete and n_rows >= ID_MIN_ROWS and n_unique == n_rows:
        return Role.ID
    return Role.FEATURE


def _column(name: str, stats: Mapping[str, Any], role: Role) -> ColumnSchema:
    kind = ColumnKind(stats["kind"])
    keeps_values = kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)
    return ColumnSchema(
        name=name,
        kind=kind,
        role=role,
        nullable=bool(stats.get("n_missing")),
        missing_share=float(stats.get("missing_share") or 0.0),
        n_unique=int(stats.get("n_unique") or 0),
        min=stats.get("min"),
        max=stats.get("max"),
        categories=tuple(v for v, _ in stats.get("top", ())) if keeps_values else (),
    )
