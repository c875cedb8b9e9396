"""The input contract of a model: which columns, of which kind, with which categories.

Saved with every model version; checked before predicting so a wrong request
fails with the column and the problem named instead of a scikit-learn traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sluice.errors import SignatureMismatch, did_you_mean

MAX_DOMAIN = 50


@dataclass(frozen=True)
class SignatureColumn:
    name: str
    kind: str  # numeric | categorical | boolean | datetime
    dtype: str  # the pandas dtype seen in training
    categories: tuple[Any, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "dtype": self.dtype}
        if self.categories is not None:
            out["categories"] = list(self.categories)
        return out


@dataclass(frozen=True)
class Signature:
    """Input columns, and what the model outputs (task and, for classifiers, classes)."""

    columns: tuple[SignatureColumn, ...]
    output: Mapping[str, Any] | None = None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @classmethod
    def from_frame(cls, X: Any) -> Signature:
        """The signature of the columns of ``X`` (the model's raw input)."""
        return cls(tuple(_column(str(name), X[name]) for name in X.columns))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"inputs": [c.to_dict() for c in self.columns]}
        if self.output is not None:
            out["output"] = dict(self.output)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        columns = []
        for c in data["inputs"]:
            cats = c.get("categories")
            columns.append(
                SignatureColumn(
                    c["name"], c["kind"], c["dtype"], None if cats is None else tuple(cats)
                )
            )
        return cls(tuple(columns), data.get("output"))

    def check(self, df: Any, *, allow_extra: bool = False) -> Any:
        """``df`` itself when it fits; SignatureMismatch listing every missing, unknown
        and wrongly typed column otherwise (so a caller can fix them all at once)."""
        problems = self._missing(df) + self._wrong_types(df)
        if not allow_extra:
            problems += self._unknown(df)
        if problems:
            raise SignatureMismatch(
                "Expected input columns that match the model's signature; got: "
                + "; ".join(problems)
                + ". Send the columns the model was trained on, with the same kinds."
            )
        return df

    def _missing(self, df: Any) -> list[str]:
        # A missing column may be misspelt among the columns the model does not know.
        extra = [str(c) for c in df.columns if c not in set(self.names)]
        return [
            f"missing column {c.name!r}{_hint(c.name, extra)}"
            for c in self.columns
            if c.name not in df.columns
        ]

    def _unknown(self, df: Any) -> list[str]:
        # An unknown column may be a misspelling of one of the missing ones.
        known = set(self.names)
        missing = [c.name for c in self.columns if c.name not in df.columns]
        return [
            f"unknown column {str(name)!r}{_hint(str(name), missing)}"
            for name in df.columns
            if name not in known
        ]

    def _wrong_types(self, df: Any) -> list[str]:
        out = []
        for col in self.columns:
            if col.name in df.columns and not _fits(col.kind, df[col.name]):
                got = df[col.name].dtype
                out.append(f"column {col.name!r} should be {col.kind} ({col.dtype}), got {got}")
        return out


def _hint(name: str, choices: list[str]) -> str:
    """' (did you mean 'x'?)' inside a list of problems, or ''."""
    suggestion = did_you_mean(name, choices).strip()
    return f" ({suggestion[0].lower()}{suggestion[1:]})" if suggestion else ""


def infer_signature(X: Any, model: Any = None, *, task: str | None = None) -> Signature:
    """The signature of raw input ``X``, with the output of ``model`` when given."""
    output: dict[str, Any] | None = None
    if task is not None or model is not None:
        output = {"task": None if task is None else str(task)}
        classes = getattr(model, "classes_", None)
        if classes is not None:
            output["classes"] = [_plain(c) for c in classes]
    return (
        Signature.from_frame(X)
        if output is None
        else Signature(Signature.from_frame(X).columns, output)
    )


def kind_of(values: Any) -> str:
    """numeric, boolean, datetime or categorical, from a column's pandas dtype."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_numeric_dtype(values):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    return "categorical"


def _column(name: str, values: Any) -> SignatureColumn:
    kind = kind_of(values)
    categories = None
    if kind == "categorical":
        seen = values.dropna().unique()
        if len(seen) <= MAX_DOMAIN:
            categories = tuple(sorted((_plain(v) for v in seen), key=str))
    return SignatureColumn(name, kind, str(values.dtype), categories)


def _plain(value: Any) -> Any:
    """A JSON-able Python scalar (numpy scalars have .item())."""
    return value.item() if hasattr(value, "item") else value


def _fits(kind: str, values: Any) -> bool:
    """Whether the model's preprocessing can read ``values`` as ``kind``.

    Numbers must arrive as numbers; booleans may arrive as 0/1 or true/false text;
    datetimes as datetimes or parseable text; categories as anything. A column
    that is entirely missing always fits (it is imputed).
    """
    present = values.dropna()
    given = kind_of(values)
    if present.empty or kind == given or kind == "categorical":
        return True
    if kind == "boolean":
        text = present.astype(str).str.strip().str.lower()
        return bool(text.isin(_BOOLEAN_TEXT).all())
    if kind == "datetime" and given == "categorical":
        import pandas as pd

        parsed = pd.to_datetime(present.astype(str), errors="coerce", format="mixed", utc=True)
        return bool(parsed.notna().all())
    return False


_BOOLEAN_TEXT = frozenset({"true", "false", "1", "0", "1.0", "0.0", "yes", "no"})
