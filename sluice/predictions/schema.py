"""The columns of a log segment, and turning appended batches into Arrow tables.

Inputs keep their names behind an ``input:`` prefix and class probabilities
behind ``proba:``, so no feature name can collide with the log's own columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

PREDICTIONS = "predictions"
FEEDBACK = "feedback"
KINDS = (PREDICTIONS, FEEDBACK)

INPUT = "input:"
PROBA = "proba:"
META = ("request_id", "timestamp", "model_version", "prediction", "flags")
FEEDBACK_COLUMNS = ("request_id", "label", "timestamp")

MEDIA_TYPE = "application/vnd.apache.parquet"
MATERIALIZER = "sluice.predictions.segment"


def predictions_table(
    inputs: pd.DataFrame,
    *,
    request_ids: Sequence[str],
    timestamp: float,
    model_version: int,
    predictions: Any,
    probabilities: Any = None,
    classes: Sequence[Any] | None = None,
    flags: Sequence[str] | None = None,
) -> pa.Table:
    """One appended batch as an Arrow table with the log's columns."""
    import numpy as np
    import pyarrow as pa

    n = len(request_ids)
    columns: dict[str, pa.Array] = {
        "request_id": pa.array(list(request_ids), pa.string()),
        "timestamp": pa.array(np.full(n, timestamp, dtype="float64")),
        "model_version": pa.array(np.full(n, model_version, dtype="int64")),
        "prediction": _array(predictions),
        "flags": pa.array(list(flags) if flags is not None else [""] * n, pa.string()),
    }
    if probabilities is not None:
        probs = np.asarray(probabilities, dtype="float64")
        for i, label in enumerate(classes or range(probs.shape[1])):
            columns[f"{PROBA}{label}"] = pa.array(probs[:, i])
    for name in inputs.columns:
        columns[f"{INPUT}{name}"] = _array(inputs[name].to_numpy())
    for name, array in columns.items():
        if len(array) != n:
            raise ValueError(f"Log column {name!r} has {len(array)} rows; expected {n}.")
    return pa.table(columns)


def concat_predictions(parts: Sequence[dict[str, Any]]) -> pa.Table:
    """Many appended batches (the keyword arguments of :func:`predictions_table`, one
    dict each) as one table: converted once, which costs about what one batch costs."""
    import numpy as np
    import pandas as pd

    if len(parts) == 1:
        return predictions_table(**parts[0])
    sizes = [len(p["request_ids"]) for p in parts]
    table = predictions_table(
        pd.concat([p["inputs"] for p in parts], ignore_index=True),
        request_ids=[r for p in parts for r in p["request_ids"]],
        timestamp=0.0,
        model_version=parts[0]["model_version"],
        predictions=np.concatenate([np.asarray(p["predictions"]) for p in parts]),
        probabilities=None
        if parts[0].get("probabilities") is None
        else np.vstack([np.asarray(p["probabilities"]) for p in parts]),
        classes=parts[0].get("classes"),
        flags=[f for p in parts for f in (p.get("flags") or [""] * len(p["request_ids"]))],
    )
    times = np.repeat([float(p["timestamp"]) for p in parts], sizes)
    import pyarrow as pa

    return table.set_column(table.schema.get_field_index("timestamp"), "timestamp", pa.array(times))


def check_lengths(n: int, **columns: Any) -> None:
    """ValueError naming the first argument whose length is not ``n`` (None is skipped)."""
    for name, values in columns.items():
        if values is not None and len(values) != n:
            raise ValueError(f"{name} has {len(values)} rows; expected {n}, one per request id.")


def feedback_table(request_ids: Sequence[str], labels: Sequence[Any], timestamp: float) -> pa.Table:
    import numpy as np
    import pyarrow as pa

    if len(request_ids) != len(labels):
        raise ValueError(f"{len(request_ids)} request ids but {len(labels)} labels.")
    return pa.table(
        {
            "request_id": pa.array(list(request_ids), pa.string()),
            "label": _array(np.asarray(labels, dtype=object)),
            "timestamp": pa.array(np.full(len(labels), timestamp, dtype="float64")),
        }
    )


def _array(values: Any) -> pa.Array:
    """An Arrow array of ``values``; text when the values mix types Arrow cannot unify."""
    import numpy as np
    import pyarrow as pa

    values = np.asarray(values)
    if values.dtype != object:
        return pa.array(values)
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())
