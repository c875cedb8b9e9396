"""The prediction log: every prediction and every feedback label, kept as Parquet segments.

Rows are appended in batches and written off the request path by a background
thread (:class:`PredictionLog`); each write is one Parquet segment in the
artifact store plus one index row in the metadata store, so a time window of
millions of rows is read back by opening only the segments that overlap it.
"""

from sluice.predictions.reader import (
    LogWindow,
    count_feedback,
    count_predictions,
    read_feedback,
    read_labelled,
    read_predictions,
)
from sluice.predictions.writer import PredictionLog

__all__ = [
    "LogWindow",
    "PredictionLog",
    "count_feedback",
    "count_predictions",
    "read_feedback",
    "read_labelled",
    "read_predictions",
]
