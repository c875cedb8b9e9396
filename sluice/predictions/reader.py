"""Reading the log back: predictions by time window, feedback, and the two joined.

Only the segments whose time range overlaps the window are opened, and inside
each only the rows in the window are decoded (a Parquet filter), so a window of
a long history costs what the window holds, not what the history holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sluice.predictions.schema import FEEDBACK, FEEDBACK_COLUMNS, INPUT, META, PREDICTIONS
from sluice.predictions.segments import count_rows, find_segments, read_segments
from sluice.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass(frozen=True)
class LogWindow:
    """Logged predictions: the inputs as received, and the log's own columns.

    ``meta`` holds request_id, timestamp, model_version, prediction, flags, any
    ``proba:<class>`` columns and, from :func:`read_labelled`, ``label``. Both
    frames share one index and are ordered by timestamp, then request id.
    """

    inputs: pd.DataFrame
    meta: pd.DataFrame

    def __len__(self) -> int:
        return len(self.meta)

    @property
    def predictions(self) -> pd.Series:
        return self.meta["prediction"]

    @property
    def start(self) -> float | None:
        return float(self.meta["timestamp"].iloc[0]) if len(self) else None

    @property
    def end(self) -> float | None:
        return float(self.meta["timestamp"].iloc[-1]) if len(self) else None


def read_predictions(
    ws: Workspace,
    model_name: str,
    *,
    start: float | None = None,
    end: float | None = None,
    version: int | None = None,
    limit: int | None = None,
) -> LogWindow:
    """Predictions of ``model_name`` logged in ``[start, end)``, oldest first.

    ``limit`` keeps the first rows only: a window of N rows is
    ``read_predictions(ws, name, start=cursor, limit=N)``.
    """
    segments = find_segments(ws, PREDICTIONS, model_name, start=start, end=end, version=version)
    tables = []
    rows = 0
    for table in read_segments(ws, segments, start=start, end=end):
        tables.append(table)
        rows += table.num_rows
        # Segments are written in time order, so once enough rows are in hand and
        # the next segment starts later than all of them, it cannot contribute.
        if limit is not None and rows >= limit and _all_before_next(tables, segments, len(tables)):
            break
    return _window(_concat(tables), limit)


def read_feedback(
    ws: Workspace, model_name: str, *, start: float | None = None, end: float | None = None
) -> pd.DataFrame:
    """Labels received in ``[start, end)``: request_id, label, timestamp; the latest label
    of a request id wins."""
    import pandas as pd

    segments = find_segments(ws, FEEDBACK, model_name, start=start, end=end)
    table = _concat(list(read_segments(ws, segments, start=start, end=end)))
    if table is None:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in FEEDBACK_COLUMNS})
    frame = table.to_pandas()
    frame = frame.sort_values("timestamp", kind="stable")
    return frame.drop_duplicates("request_id", keep="last").reset_index(drop=True)


def read_labelled(
    ws: Workspace,
    model_name: str,
    *,
    start: float | None = None,
    end: float | None = None,
    version: int | None = None,
) -> LogWindow:
    """Predictions logged in ``[start, end)`` that have a label, whenever it arrived."""
    window = read_predictions(ws, model_name, start=start, end=end, version=version)
    if not len(window):
        meta = window.meta.assign(label=window.meta["prediction"].iloc[:0])
        return LogWindow(window.inputs, meta)
    # A label comes after its prediction, so older feedback segments cannot match.
    labels = read_feedback(ws, model_name, start=window.start)
    keep = window.meta["request_id"].isin(labels["request_id"])
    meta = window.meta[keep]
    label = meta["request_id"].map(labels.set_index("request_id")["label"])
    return LogWindow(window.inputs[keep], meta.assign(label=label))


def count_predictions(ws: Workspace, model_name: str) -> int:
    """Rows in the prediction log of ``model_name`` (written ones; the queue is not counted)."""
    return count_rows(ws, PREDICTIONS, model_name)


def count_feedback(ws: Workspace, model_name: str) -> int:
    """Labels received for ``model_name`` (written ones, repeats included)."""
    return count_rows(ws, FEEDBACK, model_name)


def _all_before_next(tables: list[pa.Table], segments: list, done: int) -> bool:
    import pyarrow.compute as pc

    if done >= len(segments):
        return True
    latest = max(pc.max(t["timestamp"]).as_py() or float("-inf") for t in tables if t.num_rows)
    return bool(latest < segments[done].start_time)


def _concat(tables: list[pa.Table]) -> pa.Table | None:
    import pyarrow as pa

    tables = [t for t in tables if t.num_rows]
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive")


def _window(table: pa.Table | None, limit: int | None) -> LogWindow:
    import pandas as pd

    if table is None:
        meta = pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in META})
        return LogWindow(pd.DataFrame(index=meta.index), meta)
    frame = table.to_pandas()
    frame = frame.sort_values(["timestamp", "request_id"], kind="stable", ignore_index=True)
    if limit is not None:
        frame = frame.iloc[:limit]
    inputs = [c for c in frame.columns if c.startswith(INPUT)]
    meta = frame.drop(columns=inputs)
    renamed = frame[inputs].rename(columns=lambda c: c[len(INPUT) :])
    return LogWindow(renamed, meta)


def _dtype(column: str) -> str:
    return {"timestamp": "float64", "model_version": "int64"}.get(column, "object")
