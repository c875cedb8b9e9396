"""What validation reports: anomalies with a kind and a severity, gathered in a report.

Severities (an ``error`` stops a pipeline; a ``warning`` goes into the run report):

=========================  ========  ==============================================
kind                       severity  why
=========================  ========  ==============================================
missing_column             error     a model trained with it cannot score without it
type_change                error     preprocessing built for the old kind breaks
target_all_null            error     there is nothing to learn
single_class               error     a classifier needs at least two classes
new_column                 warning   ignored by existing models; maybe intended
nulls_where_none_seen      warning   imputation copes, but the source may be broken
missing_share_jumped       warning   same, at a larger scale
out_of_range               warning   models extrapolate; may be a unit change
unseen_categories          warning   encoded as unknown; may be a new product line
duplicated_rows            warning   inflates some classes and leaks across splits
constant_column            warning   carries no information
leakage_suspect            warning   almost certainly known only after the outcome
=========================  ========  ==============================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sluice.errors import ValidationFailed


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class AnomalyKind(StrEnum):
    MISSING_COLUMN = "missing_column"
    NEW_COLUMN = "new_column"
    TYPE_CHANGE = "type_change"
    NULLS_WHERE_NONE_SEEN = "nulls_where_none_seen"
    OUT_OF_RANGE = "out_of_range"
    UNSEEN_CATEGORIES = "unseen_categories"
    MISSING_SHARE_JUMPED = "missing_share_jumped"
    DUPLICATED_ROWS = "duplicated_rows"
    CONSTANT_COLUMN = "constant_column"
    LEAKAGE_SUSPECT = "leakage_suspect"
    TARGET_ALL_NULL = "target_all_null"
    SINGLE_CLASS = "single_class"


SEVERITY = {
    AnomalyKind.MISSING_COLUMN: Severity.ERROR,
    AnomalyKind.TYPE_CHANGE: Severity.ERROR,
    AnomalyKind.TARGET_ALL_NULL: Severity.ERROR,
    AnomalyKind.SINGLE_CLASS: Severity.ERROR,
}


@dataclass(frozen=True)
class Anomaly:
    column: str | None
    kind: AnomalyKind
    severity: Severity
    observed: Any
    expected: Any
    message: str

    @classmethod
    def of(
        cls, kind: AnomalyKind, column: str | None, observed: Any, expected: Any, message: str
    ) -> Anomaly:
        """An anomaly with the severity its kind has (see the table above)."""
        return cls(column, kind, SEVERITY.get(kind, Severity.WARNING), observed, expected, message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind.value,
            "severity": self.severity.value,
            "observed": self.observed,
            "expected": self.expected,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Anomaly:
        return cls(
            column=data.get("column"),
            kind=AnomalyKind(data["kind"]),
            severity=Severity(data["severity"]),
            observed=data.get("observed"),
            expected=data.get("expected"),
            message=data["message"],
        )


@dataclass(frozen=True)
class ValidationReport:
    anomalies: tuple[Anomaly, ...]
    n_rows: int = 0

    @property
    def ok(self) -> bool:
        """True when no anomaly is an error (warnings do not stop anything)."""
        return not self.errors

    @property
    def errors(self) -> list[Anomaly]:
        return [a for a in self.anomalies if a.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Anomaly]:
        return [a for a in self.anomalies if a.severity == Severity.WARNING]

    def kinds(self) -> set[AnomalyKind]:
        return {a.kind for a in self.anomalies}

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "n_rows": self.n_rows,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "anomalies": [a.to_dict() for a in self.anomalies],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationReport:
        """The report :meth:`to_dict` described (as the team server sends it)."""
        anomalies = tuple(Anomaly.from_dict(a) for a in data.get("anomalies", ()))
        return cls(anomalies, int(data.get("n_rows", 0)))

    def raise_for_errors(self, label: str = "the data") -> None:
        """Raise ValidationFailed (exit code 1) listing every error, if there is one."""
        if self.ok:
            return
        lines = "; ".join(a.message for a in self.errors)
        raise ValidationFailed(
            f"Expected {label} to pass validation; found {len(self.errors)} error(s): {lines}",
            report=self,
        )
