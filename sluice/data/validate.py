"""Checking a DataFrame against a schema (and optionally a reference), producing anomalies.

The schema is the contract: which columns, of which kind, which role. The
statistics compared against (missing shares, ranges, categories) come from the
``reference`` when one is given (a DataFrame, or a stored profile), otherwise
from the schema, which recorded them when it was inferred. Severities are
explained in :mod:`sluice.data.anomalies`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sluice.data.anomalies import Anomaly, AnomalyKind, ValidationReport
from sluice.data.leakage import PAIR_THRESHOLD, leakage_score, leaking_pairs
from sluice.data.profile import frame_to_arrow, profile_table
from sluice.data.schema import MAX_CATEGORIES, ColumnKind, ColumnSchema, Role, Schema

if TYPE_CHECKING:
    import pandas as pd

MISSING_JUMP = 0.10  # absolute increase of the missing share that is reported...
MISSING_FACTOR = 2.0  # ...when the share also at least doubled
LEAKAGE_THRESHOLD = 0.90
MAX_EXAMPLES = 10
_SAME_FAMILY = {ColumnKind.TEXT: ColumnKind.CATEGORICAL}


def validate(
    df: pd.DataFrame,
    schema: Schema,
    *,
    reference: pd.DataFrame | Mapping[str, Any] | None = None,
) -> ValidationReport:
    """Every anomaly of ``df`` against ``schema`` (and ``reference``'s statistics, if given)."""
    frame = df.rename(columns=str)
    profile = profile_table(frame_to_arrow(frame))["columns"]
    base = _baseline(schema, reference)
    found = [
        *_column_set(frame, schema),
        *_per_column(frame, schema, profile, base),
        *_constant(profile, schema),
        *_duplicates(frame),
        *_target(frame, schema, profile),
    ]
    return ValidationReport(anomalies=tuple(found), n_rows=len(frame))


def _baseline(schema: Schema, reference: Any) -> dict[str, dict[str, Any]]:
    """Per column: missing_share, min, max, categories (complete list or None)."""
    if reference is None:
        return {c.name: _from_schema(c) for c in schema.columns}
    profile = reference if isinstance(reference, Mapping) else _profile(reference)
    columns = profile.get("columns", profile)
    out = {c.name: _from_schema(c) for c in schema.columns}
    for name, stats in columns.items():
        top = stats.get("top")
        complete = top is not None and int(stats.get("n_unique") or 0) <= MAX_CATEGORIES
        out[name] = {
            "missing_share": float(stats.get("missing_share") or 0.0),
            "min": stats.get("min"),
            "max": stats.get("max"),
            "categories": [v for v, _ in top] if complete else None,
        }
    return out


def _from_schema(col: ColumnSchema) -> dict[str, Any]:
    complete = col.kind == ColumnKind.CATEGORICAL and 0 < col.n_unique <= MAX_CATEGORIES
    return {
        "missing_share": col.missing_share,
        "min": col.min,
        "max": col.max,
        "categories": list(col.categories) if complete else None,
    }


def _profile(df: pd.DataFrame) -> dict[str, Any]:
    return profile_table(frame_to_arrow(df.rename(columns=str)))


def _column_set(frame: pd.DataFrame, schema: Schema) -> Iterator[Anomaly]:
    present = set(frame.columns)
    for col in schema.columns:
        if col.name not in present:
            yield Anomaly.of(
                AnomalyKind.MISSING_COLUMN,
                col.name,
                None,
                col.kind.value,
                f"Column {col.name!r} ({col.role.value}, {col.kind.value}) is missing; "
                "restore it in the data, or remove it from the schema.",
            )
    for name in frame.columns:
        if name not in schema:
            yield Anomaly.of(
                AnomalyKind.NEW_COLUMN,
                name,
                "present",
                None,
                f"Column {name!r} is not in the schema; existing models ignore it. "
                "Re-infer the schema to use it.",
            )


def _per_column(
    frame: pd.DataFrame, schema: Schema, profile: Mapping[str, Any], base: Mapping[str, Any]
) -> Iterator[Anomaly]:
    for col in schema.columns:
        if col.name not in profile:
            continue
        stats = profile[col.name]
        kind = ColumnKind(stats["kind"])
        if _family(kind) != _family(col.kind) and stats.get("n_unique"):
            yield Anomaly.of(
                AnomalyKind.TYPE_CHANGE,
                col.name,
                kind.value,
                col.kind.value,
                f"Column {col.name!r} should be {col.kind.value}; it is now {kind.value} "
                f"({stats['dtype']}). Fix the values at the source, or re-infer the schema.",
            )
            continue
        expected = base.get(col.name, _from_schema(col))
        yield from _missing(col, stats, expected)
        yield from _range(frame[col.name], col, kind, expected)
        yield from _categories(frame[col.name], col, kind, expected)


def _constant(profile: Mapping[str, Any], schema: Schema) -> Iterator[Anomaly]:
    for name, stats in profile.items():
        n_unique = int(stats.get("n_unique") or 0)
        if n_unique <= 1 and name != schema.target:
            yield Anomaly.of(
                AnomalyKind.CONSTANT_COLUMN,
                name,
                n_unique,
                ">= 2 distinct values",
                f"Column {name!r} has {n_unique} distinct value(s); it carries no information. "
                "Drop it or mark it ignored.",
            )


def _family(kind: ColumnKind) -> ColumnKind:
    return _SAME_FAMILY.get(kind, kind)


def _missing(
    col: ColumnSchema, stats: Mapping[str, Any], expected: Mapping[str, Any]
) -> Iterator[Anomaly]:
    now, before = float(stats["missing_share"]), float(expected["missing_share"] or 0.0)
    if before == 0 and now > 0:
        yield Anomaly.of(
            AnomalyKind.NULLS_WHERE_NONE_SEEN,
            col.name,
            round(now, 6),
            0.0,
            f"Column {col.name!r} has {stats['n_missing']} missing value(s) ({now:.1%}); none were "
            "seen before. Check the source for a broken join or export.",
        )
    elif now - before >= MISSING_JUMP and now >= MISSING_FACTOR * before:
        yield Anomaly.of(
            AnomalyKind.MISSING_SHARE_JUMPED,
            col.name,
            round(now, 6),
            round(before, 6),
            f"Column {col.name!r} is missing in {now:.1%} of rows, up from {before:.1%}. "
            "Check the source before training on it.",
        )


def _range(
    series: pd.Series, col: ColumnSchema, kind: ColumnKind, expected: Mapping[str, Any]
) -> Iterator[Anomaly]:
    import pandas as pd

    low, high = expected["min"], expected["max"]
    if low is None or high is None or kind not in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
        return
    if kind == ColumnKind.DATETIME:
        values = pd.to_datetime(series, errors="coerce").dropna()
        low, high = pd.Timestamp(low), pd.Timestamp(high)
        if values.dt.tz is not None and low.tz is None:
            low, high = low.tz_localize(values.dt.tz), high.tz_localize(values.dt.tz)
    else:
        values = pd.to_numeric(series, errors="coerce").dropna()
    bounds = [_plain(low), _plain(high)]
    if kind == ColumnKind.DATETIME and values.dt.tz is None and low.tz is not None:
        low, high = low.tz_convert(None), high.tz_convert(None)  # naive values read as UTC
    outside = values[(values < low) | (values > high)]
    if len(outside):
        seen = [_plain(values.min()), _plain(values.max())]
        yield Anomaly.of(
            AnomalyKind.OUT_OF_RANGE,
            col.name,
            {"range": seen, "n_outside": len(outside)},
            bounds,
            f"Column {col.name!r} has {len(outside)} value(s) outside the range seen before "
            f"[{bounds[0]}, {bounds[1]}]; now [{seen[0]}, {seen[1]}]. Check for a unit change "
            "or bad records.",
        )


def _categories(
    series: pd.Series, col: ColumnSchema, kind: ColumnKind, expected: Mapping[str, Any]
) -> Iterator[Anomaly]:
    known = expected["categories"]
    if known is None or kind not in (ColumnKind.CATEGORICAL, ColumnKind.TEXT):
        return
    values = series.dropna().astype("str")
    new = values[~values.isin({str(k) for k in known})]
    if len(new):
        examples = sorted(new.unique().tolist())[:MAX_EXAMPLES]
        yield Anomaly.of(
            AnomalyKind.UNSEEN_CATEGORIES,
            col.name,
            {"values": examples, "n_rows": len(new)},
            list(known),
            f"Column {col.name!r} has {new.nunique()} value(s) never seen before "
            f"in {len(new)} row(s), "
            f"e.g. {', '.join(map(repr, examples[:3]))}. Models treat them as unknown; retrain "
            "on data that includes them.",
        )


def _duplicates(frame: pd.DataFrame) -> Iterator[Anomaly]:
    try:
        n = int(frame.duplicated().sum())
    except TypeError:  # unhashable cells (lists, dicts): nothing sensible to compare
        return
    if n:
        yield Anomaly.of(
            AnomalyKind.DUPLICATED_ROWS,
            None,
            n,
            0,
            f"{n} row(s) ({n / len(frame):.1%}) are exact duplicates of an earlier row. They can "
            "leak between training and test splits; drop them unless they are real repeats.",
        )


def _target(frame: pd.DataFrame, schema: Schema, profile: Mapping[str, Any]) -> Iterator[Anomaly]:
    name = schema.target
    if name is None or name not in profile:
        return
    n_unique = int(profile[name].get("n_unique") or 0)
    if n_unique == 0:
        yield Anomaly.of(
            AnomalyKind.TARGET_ALL_NULL,
            name,
            "all missing",
            "values",
            f"Target {name!r} is missing in every row; there is nothing to learn. "
            "Check the target name and the export.",
        )
        return
    if schema.task == "classification" and n_unique == 1:
        only = profile[name].get("top", [[None]])[0][0]
        yield Anomaly.of(
            AnomalyKind.SINGLE_CLASS,
            name,
            [only],
            ">= 2 classes",
            f"Target {name!r} has a single class ({only!r}); a classifier needs at least two. "
            "Add rows of the other classes, or choose another target.",
        )
        return
    if schema.task is not None:  # a schema inferred from an all-missing target has none
        yield from _leakage(frame, schema)


def _leakage(frame: pd.DataFrame, schema: Schema) -> Iterator[Anomaly]:
    assert schema.target is not None and schema.task is not None
    target = frame[schema.target]
    flagged: set[str] = set()
    features = [
        c.name for c in schema.columns if c.role == Role.FEATURE and c.name in frame.columns
    ]
    for name in features:
        score = leakage_score(frame[name], target, schema.task)
        if score is not None and score >= LEAKAGE_THRESHOLD:
            flagged.add(name)
            yield Anomaly.of(
                AnomalyKind.LEAKAGE_SUSPECT,
                name,
                round(score, 4),
                f"< {LEAKAGE_THRESHOLD}",
                f"Column {name!r} alone explains {score:.0%} of target "
                f"{schema.target!r}; it is "
                "probably known only after the outcome. Drop it or mark it ignored, unless it is "
                "truly available at prediction time.",
            )
    if schema.task == "regression":
        yield from _leaking_pairs(frame, features, schema.target, flagged)


def _leaking_pairs(
    frame: pd.DataFrame, features: list[str], target: str, flagged: set[str]
) -> Iterator[Anomaly]:
    """Columns that leak together with another; those flagged alone already are skipped."""
    seen = set(flagged)
    for a, b, r2 in leaking_pairs(frame, features, target):
        for name, partner in ((a, b), (b, a)):
            if name in seen:
                continue
            seen.add(name)
            yield Anomaly.of(
                AnomalyKind.LEAKAGE_SUSPECT,
                name,
                round(r2, 4),
                f"< {PAIR_THRESHOLD}",
                f"Columns {name!r} and {partner!r} together explain {r2:.1%} of target "
                f"{target!r} (a linear combination of the two); they are probably parts of it, "
                "known only after the outcome. Drop them or mark them ignored, unless they are "
                "truly available at prediction time.",
            )


def _plain(value: Any) -> Any:
    """JSON-friendly: timestamps as ISO strings, NumPy scalars as Python numbers."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value
