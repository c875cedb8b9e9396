"""The reference a monitor compares production with, and frames made comparable.

By default the reference is the data the served version was trained on (its
``dataset_version_id``), restricted to the columns of its signature: the target
and the columns the model never saw are dropped. ``--reference DATASET@VERSION``
names another dataset version. Both sides go through :func:`conform`, so that a
category logged as ``1.0`` and stored as ``1`` are the same category, a boolean is
a category, and a datetime is a number of seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from sluice.data.versions import DatasetVersion, get_version, load_frame
from sluice.errors import MonitorError
from sluice.registry import ModelVersion
from sluice.store import tables as t
from sluice.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

# How a signature kind is compared (see sluice.monitoring.windows.KINDS).
DRIFT_KIND = {
    "numeric": "numeric",
    "categorical": "categorical",
    "boolean": "categorical",
    "datetime": "numeric",
}


@dataclass(frozen=True)
class Reference:
    """The reference (signature columns only) as stored (``raw``, what the model reads) and
    conformed for comparison (``frame``), and the dataset version it came from."""

    frame: pd.DataFrame
    raw: pd.DataFrame
    dataset: str
    dataset_version_id: int


def parse_reference(ws: Workspace, ref: str) -> DatasetVersion:
    """The dataset version ``NAME@VERSION`` (or ``NAME``, the latest); NotFound names the rest."""
    return get_version(ws, ref)


def dataset_version_by_id(ws: Workspace, version_id: int) -> DatasetVersion:
    dv, ds = t.dataset_versions, t.datasets
    with ws.store.read() as conn:
        row = conn.execute(
            sa.select(ds.c.name, dv.c.version)
            .join(ds, ds.c.id == dv.c.dataset_id)
            .where(dv.c.id == version_id)
        ).first()
    if row is None:
        raise MonitorError(
            f"Expected dataset version id {version_id} to exist; it does not. "
            "Recreate the monitor with --reference DATASET@VERSION."
        )
    return get_version(ws, f"{row.name}@{row.version}")


def load_reference(ws: Workspace, mv: ModelVersion, version_id: int | None = None) -> Reference:
    """The reference of ``mv``: the given dataset version, else its training data."""
    chosen = version_id if version_id is not None else mv.dataset_version_id
    if chosen is None:
        raise MonitorError(
            f"Expected {mv.uri} to name its training data, or the monitor to name a reference; "
            "neither is recorded. Recreate the monitor with --reference DATASET@VERSION."
        )
    version = dataset_version_by_id(ws, chosen)
    frame = load_frame(ws, version)
    if version.schema.target and version.schema.target in frame.columns:
        frame = frame.drop(columns=[version.schema.target])
    names = signature_kinds(mv.signature)
    keep = [c for c in frame.columns if str(c) in names]
    raw = frame[keep]
    return Reference(conform(raw, mv.signature), raw, version.ref, version.id)


def signature_kinds(signature: Mapping[str, Any]) -> dict[str, str]:
    """Input column -> its signature kind (numeric, categorical, boolean, datetime)."""
    return {
        str(c["name"]): str(c.get("kind") or "numeric")
        for c in signature.get("inputs") or ()
        if isinstance(c, Mapping) and "name" in c
    }


def drift_kinds(signature: Mapping[str, Any]) -> dict[str, str]:
    """Input column -> how its drift is measured (numeric or categorical)."""
    return {
        name: DRIFT_KIND.get(kind, "categorical")
        for name, kind in signature_kinds(signature).items()
    }


def conform(frame: pd.DataFrame, signature: Mapping[str, Any]) -> pd.DataFrame:
    """A copy of ``frame`` whose columns hold values comparable across sources.

    Numbers that do not parse and datetimes that do not parse become missing (and
    show in the missing share); categories become text; booleans become
    ``true``/``false``; datetimes become UTC.
    """
    import pandas as pd

    kinds = signature_kinds(signature)
    out = {}
    for name in frame.columns:
        series = frame[name]
        kind = kinds.get(str(name))
        if kind == "numeric":
            out[name] = pd.to_numeric(series, errors="coerce")
        elif kind == "datetime":
            out[name] = _datetimes(series)
        elif kind == "boolean":
            out[name] = _booleans(series)
        elif kind == "categorical":
            out[name] = _category_text(series)
        else:
            out[name] = series
    return pd.DataFrame(out, index=frame.index)


def _datetimes(series: pd.Series) -> pd.Series:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            return series.dt.tz_convert("UTC")
        return series.dt.tz_localize("UTC")
    return pd.to_datetime(series, errors="coerce", utc=True, format="mixed")


_TRUE = {"true", "1", "1.0", "yes"}
_FALSE = {"false", "0", "0.0", "no"}


def _booleans(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.strip().str.lower()
    result = text.where(~text.isin(_TRUE), "true")
    return result.where(~text.isin(_FALSE), "false").astype(object).where(series.notna())


def _category_text(series: pd.Series) -> pd.Series:
    """Text categories; whole floats lose their '.0' (a column with nulls reads as float)."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        numbers = pd.to_numeric(series, errors="coerce").astype(float)
        finite = numbers[np.isfinite(numbers)]
        if len(finite) and bool((finite == np.round(finite)).all()):
            text = numbers.map(lambda v: str(int(v)) if np.isfinite(v) else str(v))
            return text.astype(object).where(series.notna())
    return series.astype(str).astype(object).where(series.notna())
