"""The schema shape that `sluice.data` produces and models and gates consume.

A schema is the column contract of a dataset: what kind each column is, what it
is for (its role), and what was observed (nullability, range, categories). It
is inferred (see :mod:`sluice.data.infer`), stored with each dataset version as
JSON, and read back with :meth:`Schema.from_dict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from sluice.errors import ColumnNotFound, did_you_mean

MAX_CATEGORIES = 50


class ColumnKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    TEXT = "text"


class Role(StrEnum):
    FEATURE = "feature"
    TARGET = "target"
    ID = "id"
    TIME = "time"
    CONSTANT = "constant"
    IGNORED = "ignored"


@dataclass(frozen=True)
class ColumnSchema:
    name: str
    kind: ColumnKind
    role: Role = Role.FEATURE
    nullable: bool = False
    missing_share: float = 0.0
    n_unique: int = 0
    min: float | str | None = None
    max: float | str | None = None
    categories: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kind"] = self.kind.value
        out["role"] = self.role.value
        out["categories"] = list(self.categories)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSchema:
        return cls(
            name=data["name"],
            kind=ColumnKind(data["kind"]),
            role=Role(data.get("role", "feature")),
            nullable=bool(data.get("nullable", False)),
            missing_share=float(data.get("missing_share", 0.0)),
            n_unique=int(data.get("n_unique", 0)),
            min=data.get("min"),
            max=data.get("max"),
            categories=tuple(data.get("categories") or ()),
        )


@dataclass(frozen=True)
class Schema:
    columns: tuple[ColumnSchema, ...]
    target: str | None = None
    time_column: str | None = None
    task: str | None = None  # "classification" | "regression" | None
    _by_name: dict[str, ColumnSchema] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSchema:
        try:
            return self._by_name[name]
        except KeyError:
            raise ColumnNotFound(
                f"Expected a column named {name!r}; the schema has {len(self.columns)} columns: "
                f"{', '.join(self.names) or '(none)'}.{did_you_mean(name, self.names)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def feature_names(self) -> list[str]:
        """Columns a model may use: role feature, or time (calendar features are derived)."""
        return [c.name for c in self.columns if c.role in (Role.FEATURE, Role.TIME)]

    def features_of(self, kind: ColumnKind | str) -> list[str]:
        wanted = ColumnKind(kind)
        usable = set(self.feature_names())
        return [c.name for c in self.columns if c.kind == wanted and c.name in usable]

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [c.to_dict() for c in self.columns],
            "target": self.target,
            "time_column": self.time_column,
            "task": self.task,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        return cls(
            columns=tuple(ColumnSchema.from_dict(c) for c in data.get("columns", [])),
            target=data.get("target"),
            time_column=data.get("time_column"),
            task=data.get("task"),
        )
