"""The shapes sluice.models reads: the task and the schema it is given.

The schema is produced by ``sluice.data`` (``Schema`` / ``ColumnSchema``, see
docs/internals.md). These protocols name only the attributes the models layer
reads, so preprocessing depends on the documented shape and not on one class.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Protocol

from sluice.errors import ModelError, did_you_mean


class Task(StrEnum):
    """What is predicted: a class label or a number."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"

    @classmethod
    def parse(cls, value: str | Task) -> Task:
        """The Task for ``value``; a clear error for anything else."""
        try:
            return cls(value)
        except ValueError:
            names = [t.value for t in cls]
            raise ModelError(
                f"Task must be one of {', '.join(names)}; got {value!r}."
                f"{did_you_mean(str(value), names)} Set 'task' in sluice.yaml."
            ) from None


class Interpretability(StrEnum):
    """How easily a person can follow what a model does."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ColumnLike(Protocol):
    """One column of ``sluice.data.ColumnSchema`` as the models layer reads it."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> Any: ...  # ColumnKind, a str-Enum
    @property
    def role(self) -> Any: ...  # Role, a str-Enum
    @property
    def n_unique(self) -> int | None: ...
    @property
    def categories(self) -> Sequence[Any] | None: ...


class SchemaLike(Protocol):
    """``sluice.data.Schema`` as the models layer reads it."""

    @property
    def columns(self) -> Sequence[Any]: ...
    @property
    def target(self) -> str | None: ...
    @property
    def time_column(self) -> str | None: ...
    @property
    def task(self) -> Any: ...
