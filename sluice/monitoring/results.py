"""Typed results of drift detection: one per column, one per dataset."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ColumnDrift:
    """The drift of one column between a reference and a current window.

    ``method`` names the statistic the verdict rests on and ``reason`` says why it
    was chosen (or why no comparison was possible). Every other statistic is
    reported too, so a reader can judge the verdict. ``n_reference`` and
    ``n_current`` count the values compared: missing and infinite values are
    excluded from the statistics and reported in their own fields.
    """

    column: str
    kind: str
    drifted: bool
    method: str
    reason: str
    n_reference: int
    n_current: int
    missing_reference: float
    missing_current: float
    infinite_reference: int = 0
    infinite_current: int = 0
    statistic: float | None = None
    p_value: float | None = None
    p_value_corrected: float | None = None
    effect_size: float | None = None
    psi: float | None = None
    new_categories: tuple[str, ...] = ()

    @property
    def missing_shift(self) -> float:
        """Change in the share of missing values, current minus reference."""
        return self.missing_current - self.missing_reference

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["new_categories"] = list(self.new_categories)
        data["missing_shift"] = self.missing_shift
        return data


@dataclass(frozen=True)
class DatasetDrift:
    """Per-column drift, the share of drifted columns and the dataset verdict.

    ``correction`` names how p-values were corrected for the number of columns.
    Columns present on one side only are listed, never compared.
    """

    columns: tuple[ColumnDrift, ...]
    drifted: bool
    share_drifted: float
    threshold: float
    correction: str
    only_in_reference: tuple[str, ...] = ()
    only_in_current: tuple[str, ...] = field(default=())

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        return tuple(c.column for c in self.columns if c.drifted)

    def column(self, name: str) -> ColumnDrift:
        """The result for one column; KeyError when it was not compared."""
        for result in self.columns:
            if result.column == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [c.to_dict() for c in self.columns],
            "drifted": self.drifted,
            "share_drifted": self.share_drifted,
            "threshold": self.threshold,
            "correction": self.correction,
            "drifted_columns": list(self.drifted_columns),
            "only_in_reference": list(self.only_in_reference),
            "only_in_current": list(self.only_in_current),
        }
