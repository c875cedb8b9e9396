"""Statistics of every column of a table: the profile stored with each dataset version.

The work is done on Arrow arrays (pyarrow.compute) and NumPy, one column per
thread, because both release the GIL: profiling has to keep up with hashing
(the target is over 100 MB/s of CSV). Numeric columns with few distinct values
are counted (hashing a few hundred values); others are sorted once, which gives
exact quantiles (read off the sorted values with NumPy's "linear" arithmetic, no
second copy or partition), the number of distinct values and the range together,
since Arrow's hash-based distinct count is far slower on high-cardinality numbers.
No statistic of a number column is approximate. On the 1 GB benchmark CSV the
profile costs 1.5 to 3.5 CPU seconds and parsing the CSV 7 to 9 (see
:mod:`sluice.data.read`): parsing is where the time goes.
Text columns whose sample shows many distinct values get an estimated distinct
count (exact when every sampled value differs: a possible id).

The result is plain JSON (numbers, strings, lists): NaN and infinities never
appear in it (they are counted instead).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from sluice.data.schema import MAX_CATEGORIES, ColumnKind
from sluice.errors import DataFormatError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
TOP_VALUES = MAX_CATEGORIES
FEW_DISTINCT = 1_000  # numeric columns with at most this many values in a sample are counted
SAMPLE_ROWS = 200_000  # values sampled to decide whether a text column needs exact counts


def profile_frame(df: pd.DataFrame) -> dict[str, Any]:
    """Row count and per-column statistics of a DataFrame (see :func:`profile_table`)."""
    return profile_table(frame_to_arrow(df))


def profile_table(table: pa.Table) -> dict[str, Any]:
    """Row count and per column: kind, missing share, distinct count, range, quantiles, top."""
    workers = max(1, min(os.cpu_count() or 1, table.num_columns))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        stats = list(pool.map(profile_column, table.columns))
    return {
        "n_rows": table.num_rows,
        "n_cols": table.num_columns,
        "columns": dict(zip(table.column_names, stats, strict=True)),
    }


def profile_column(column: pa.ChunkedArray) -> dict[str, Any]:
    """Statistics of one column; its ``kind`` says which keys are present."""
    import pyarrow as pa

    column = _normalise(column)
    dtype = column.type
    if pa.types.is_boolean(dtype):
        return _categorical(column, ColumnKind.BOOLEAN)
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype):
        return _numeric(column)
    if pa.types.is_temporal(dtype) and not pa.types.is_duration(dtype):
        return _datetime(column)
    if pa.types.is_dictionary(dtype):  # text, encoded while parsing: counted from its codes
        return _categorical(column, None)
    if pa.types.is_null(dtype):
        return {
            "kind": ColumnKind.CATEGORICAL.value,
            "dtype": "null",
            **_missing(len(column), len(column)),
            "n_unique": 0,
        }
    return _categorical(_as_text(column), None)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Any other type (lists, structs, bytes...) profiled as its text form."""
    import pyarrow as pa

    try:
        return column.cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        texts = [None if v is None else str(v) for v in column.to_pylist()]
        return pa.chunked_array([pa.array(texts, pa.string())])


def kind_of_strings(n_unique: int, n_valid: int) -> ColumnKind:
    """Few distinct values (at most 50, or 5% of the rows) make a category; more make text."""
    return (
        ColumnKind.CATEGORICAL
        if n_unique <= max(MAX_CATEGORIES, 0.05 * n_valid)
        else ColumnKind.TEXT
    )


def _normalise(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Types with the same meaning as a simpler one are cast to it."""
    import pyarrow as pa

    dtype = column.type
    if pa.types.is_dictionary(dtype) and not _is_text(dtype.value_type):
        return _normalise(column.cast(dtype.value_type))
    if pa.types.is_decimal(dtype) or pa.types.is_float16(dtype):
        return column.cast(pa.float64())
    if pa.types.is_date(dtype):
        return column.cast(pa.timestamp("s"))
    if pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype):
        return column.cast(pa.string())
    return column


def _is_text(dtype: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(dtype) or pa.types.is_large_string(dtype))


def _missing(n_missing: int, n_rows: int) -> dict[str, Any]:
    return {"n_missing": n_missing, "missing_share": (n_missing / n_rows) if n_rows else 0.0}


def _numeric(column: pa.ChunkedArray) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa

    n_rows = len(column)
    values = column.drop_null().to_numpy() if column.null_count else column.to_numpy()
    n_nan = n_inf = 0
    if pa.types.is_floating(column.type):
        finite = np.isfinite(values)
        if not finite.all():
            n_nan = int(np.isnan(values).sum())
            n_inf = int(len(values) - finite.sum() - n_nan)
            values = values[finite]
    out: dict[str, Any] = {
        "kind": ColumnKind.NUMERIC.value,
        "dtype": str(column.type),
        "integer": bool(pa.types.is_integer(column.type)),
        **_missing(column.null_count + n_nan, n_rows),
        "n_infinite": n_inf,
    }
    distinct = _few_distinct(values)
    out.update(_counted_stats(*distinct) if distinct else _sorted_stats(_ascending(values)))
    return out


def _few_distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(sorted distinct values, their counts) when a sample shows few distinct values.

    Counting a few hundred distinct values by hashing is far cheaper than sorting
    millions of numbers, and gives the same exact statistics.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(values) == 0:
        return None
    sample = values
    if len(values) > SAMPLE_ROWS:
        sample = values[np.random.default_rng(0).integers(0, len(values), SAMPLE_ROWS)]
    if len(np.unique(sample)) > FEW_DISTINCT:
        return None
    counted = pc.value_counts(pa.array(values)).flatten()
    # sorted, with -0.0 and 0.0 (apart when hashed) merged as in a sort
    distinct, codes = np.unique(counted[0].to_numpy() + 0, return_inverse=True)
    counts = np.bincount(codes, weights=counted[1].to_numpy()).astype(np.int64)
    return distinct, counts


def _counted_stats(distinct: np.ndarray, counts: np.ndarray) -> dict[str, Any]:
    """The statistics of :func:`_sorted_stats`, from distinct values and their counts."""
    import numpy as np

    n = int(counts.sum())
    as_float = distinct.astype(np.float64)
    ends = np.cumsum(counts)  # the sorted position after each distinct value's run

    def at(position: np.ndarray) -> np.ndarray:
        return as_float[np.searchsorted(ends, position, side="right")]

    with np.errstate(all="ignore"):
        mean = float((as_float * counts).sum() / n)
        std = float(np.sqrt((counts * (as_float - mean) ** 2).sum() / (n - 1))) if n > 1 else None
        h = (n - 1) * np.asarray(QUANTILES)
        low, high = np.floor(h), np.ceil(h)
        qs = at(low) + (at(high) - at(low)) * (h - low)  # numpy's "linear" method
        qs = np.clip(qs, as_float[0], as_float[-1])
    return {
        "n_unique": len(distinct),
        "min": _number(distinct[0]),
        "max": _number(distinct[-1]),
        "mean": _number(mean),
        "std": _number(std),
        "quantiles": {
            f"p{round(q * 100):02d}": _number(v) for q, v in zip(QUANTILES, qs, strict=True)
        },
    }


def _ascending(values: np.ndarray) -> np.ndarray:
    """The values in ascending order; counters and timestamps often already are, so check first."""
    import numpy as np

    if len(values) < 2 or bool(np.all(values[1:] >= values[:-1])):
        return values
    return np.sort(values)


def _sorted_stats(ordered: np.ndarray) -> dict[str, Any]:
    import numpy as np

    if len(ordered) == 0:
        return {"n_unique": 0, "min": None, "max": None, "mean": None, "std": None, "quantiles": {}}
    with np.errstate(all="ignore"):  # huge values overflow to inf, reported as None
        # dtype= converts integers in small buffers instead of copying the whole column
        mean = ordered.mean(dtype=np.float64)
        std = ordered.std(dtype=np.float64, ddof=1) if len(ordered) > 1 else None
        qs = _sorted_quantiles(ordered)
    return {
        "n_unique": int(np.count_nonzero(ordered[1:] != ordered[:-1]) + 1),
        "min": _number(ordered[0]),
        "max": _number(ordered[-1]),
        "mean": _number(mean),
        "std": _number(std),
        "quantiles": {
            f"p{round(q * 100):02d}": _number(v) for q, v in zip(QUANTILES, qs, strict=True)
        },
    }


def _sorted_quantiles(ordered: np.ndarray) -> np.ndarray:
    """``np.quantile(ordered, QUANTILES, method="linear")``, read off the sorted values.

    The same arithmetic as NumPy's (its ``_lerp``), without the copy and the
    partitions that ``np.quantile`` makes of a column of millions of values.
    """
    import numpy as np

    n = len(ordered)
    h = (n - 1) * np.asarray(QUANTILES)
    low = np.floor(h).astype(np.intp)
    a = ordered[low].astype(np.float64)
    b = ordered[np.minimum(low + 1, n - 1)].astype(np.float64)
    t = h - low
    diff = b - a
    qs = a + diff * t
    np.subtract(b, diff * (1 - t), out=qs, where=t >= 0.5)
    return np.clip(qs, a[:1], b[-1:])  # interpolation may round past the ends


def _datetime(column: pa.ChunkedArray) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa

    valid = column.drop_null()
    ordered = _ascending(
        valid.cast(pa.int64()).to_numpy() if len(valid) else np.array([], np.int64)
    )
    out: dict[str, Any] = {
        "kind": ColumnKind.DATETIME.value,
        "dtype": str(column.type),
        **_missing(column.null_count, len(column)),
        "n_unique": int(np.count_nonzero(ordered[1:] != ordered[:-1]) + 1) if len(ordered) else 0,
        "min": None,
        "max": None,
    }
    if len(ordered):
        bounds = pa.array([ordered[0], ordered[-1]]).cast(column.type)
        out["min"], out["max"] = (_iso(v) for v in bounds.to_pylist())
    return out


def _categorical(column: pa.ChunkedArray, kind: ColumnKind | None) -> dict[str, Any]:
    valid = column.drop_null()
    dtype = column.type.value_type if hasattr(column.type, "value_type") else column.type
    out: dict[str, Any] = {"dtype": str(dtype), **_missing(column.null_count, len(column))}
    if kind is None and _looks_like_text(valid):
        return {"kind": ColumnKind.TEXT.value, **out, **_text_uniques(valid)}
    values, counts = _value_counts(valid)
    final = kind or kind_of_strings(len(values), len(valid))
    order = sorted(range(len(values)), key=lambda i: (-counts[i], values[i]))
    top = [[values[i], counts[i]] for i in order[:TOP_VALUES]]
    return {"kind": final.value, **out, "n_unique": len(values), "top": top}


def _value_counts(valid: pa.ChunkedArray) -> tuple[list[Any], list[int]]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(valid):
        return [], []
    if pa.types.is_dictionary(valid.type):
        return _dictionary_counts(valid)
    counts = pc.value_counts(valid).flatten()
    return counts[0].to_pylist(), counts[1].to_pylist()


def _dictionary_counts(valid: pa.ChunkedArray) -> tuple[list[Any], list[int]]:
    """Value counts of a dictionary column: a bincount of its codes, no hashing."""
    import numpy as np

    unified = valid.unify_dictionaries()
    dictionary = unified.chunk(0).dictionary
    counts = np.zeros(len(dictionary), np.int64)
    for chunk in unified.chunks:
        codes = chunk.indices.to_numpy(zero_copy_only=False)
        counts += np.bincount(codes, minlength=len(dictionary))
    seen = np.flatnonzero(counts)
    return dictionary.take(seen).to_pylist(), counts[seen].tolist()


def _sample(valid: pa.ChunkedArray) -> pa.ChunkedArray:
    """A fixed random sample of at most SAMPLE_ROWS values (the whole column when smaller)."""
    import numpy as np

    if len(valid) <= SAMPLE_ROWS:
        return valid
    rows = np.sort(np.random.default_rng(0).choice(len(valid), SAMPLE_ROWS, replace=False))
    return valid.take(rows)


def _looks_like_text(valid: pa.ChunkedArray) -> bool:
    """Many distinct values in a sample: counting them all exactly would cost more than it tells."""
    if len(valid) <= SAMPLE_ROWS:
        return False
    values, _ = _value_counts(_sample(valid))
    return kind_of_strings(len(values), SAMPLE_ROWS) == ColumnKind.TEXT


def _text_uniques(valid: pa.ChunkedArray) -> dict[str, Any]:
    """Distinct count of a high-cardinality text column: exact when it may be an id, else estimated.

    The estimate is the GEE estimator (Charikar et al., 2000) on a random sample:
    values seen once in the sample stand for sqrt(N/n) values each. Text columns
    keep no top values: with that many distinct values they say little.
    """
    import math

    _, counts = _value_counts(_sample(valid))
    if all(c == 1 for c in counts):  # every sampled value distinct: maybe an id, count exactly
        return {"n_unique": len(_value_counts(valid)[0]), "n_unique_estimated": False}
    once = sum(1 for c in counts if c == 1)
    estimate = math.sqrt(len(valid) / SAMPLE_ROWS) * once + (len(counts) - once)
    return {"n_unique": min(len(valid), round(estimate)), "n_unique_estimated": True}


def _number(value: Any) -> float | int | None:
    """A JSON-safe Python number: NaN and infinities become None."""
    item = value.item() if hasattr(value, "item") else value
    if isinstance(item, float) and not math.isfinite(item):
        return None
    return item  # type: ignore[no-any-return]


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def frame_to_arrow(df: pd.DataFrame) -> pa.Table:
    """A DataFrame as an Arrow table with string column names; odd object columns become text."""
    import pyarrow as pa

    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise DataFormatError(
            "Expected unique column names; these appear more than once: "
            f"{', '.join(map(repr, dupes))}. "
            "Rename them so that each column has its own name."
        )
    arrays = [_series_to_arrow(df.iloc[:, i]) for i in range(df.shape[1])]
    return pa.Table.from_arrays(arrays, names=names)


def _series_to_arrow(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    import pyarrow as pa

    try:
        return pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        return pa.array([None if _is_missing(v) else str(v) for v in series], type=pa.string())


def _is_missing(value: Any) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
