"""What changed between two dataset versions: columns, kinds, roles and statistics.

Only differences are listed, so an empty section means "the same". Numbers get
their change (``b - a``); categorical columns list the values that appeared and
disappeared among their most frequent values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sluice.data.schema import Schema

if TYPE_CHECKING:
    from sluice.data.versions import DatasetVersion

COMPARED_FIELDS = ("kind", "role", "nullable")
COMPARED_STATS = ("missing_share", "n_unique", "min", "max", "mean", "std")


def diff_versions(a: DatasetVersion, b: DatasetVersion) -> dict[str, Any]:
    """Schema and statistics differences from version ``a`` to version ``b``."""
    return {
        "a": a.ref,
        "b": b.ref,
        "identical": a.content_hash == b.content_hash,
        "rows": _change(a.n_rows, b.n_rows),
        "size_bytes": _change(a.size_bytes, b.size_bytes),
        "schema": diff_schemas(a.schema, b.schema),
        "statistics": diff_profiles(a.profile, b.profile),
    }


def diff_schemas(a: Schema, b: Schema) -> dict[str, Any]:
    names_a, names_b = a.names, b.names
    changed = []
    for name in (n for n in names_a if n in b):
        col_a, col_b = a.column(name).to_dict(), b.column(name).to_dict()
        for key in COMPARED_FIELDS:
            if col_a[key] != col_b[key]:
                changed.append({"column": name, "field": key, "a": col_a[key], "b": col_b[key]})
    return {
        "added": [n for n in names_b if n not in a],
        "removed": [n for n in names_a if n not in b],
        "changed": changed,
    }


def diff_profiles(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    cols_a, cols_b = a["columns"], b["columns"]
    out: dict[str, Any] = {}
    for name in (n for n in cols_a if n in cols_b):
        found = _diff_column(cols_a[name], cols_b[name])
        if found:
            out[name] = found
    return out


def _diff_column(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in COMPARED_STATS:
        if a.get(key) != b.get(key):
            out[key] = _change(a.get(key), b.get(key))
    if "top" in a and "top" in b:
        values_a = {v for v, _ in a["top"]}
        values_b = {v for v, _ in b["top"]}
        if values_a != values_b:
            out["categories"] = {
                "added": sorted(values_b - values_a, key=str),
                "removed": sorted(values_a - values_b, key=str),
            }
    return out


def _change(a: Any, b: Any) -> dict[str, Any]:
    out = {"a": a, "b": b}
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        out["change"] = b - a
    return out
