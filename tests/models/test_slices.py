from __future__ import annotations

import numpy as np
import pandas as pd

from sluice.models.metrics import Outcome, get_metric
from sluice.models.slices import slice_metrics


def test_a_slice_where_the_metric_is_undefined_has_no_score() -> None:
    X = pd.DataFrame({"g": ["a"] * 5 + ["b"]})
    said = Outcome(np.arange(6.0), np.arange(6.0) + 0.5)
    results = slice_metrics(X, said, get_metric("r2", "regression"), ["g"])
    assert [(s.value, s.rows, s.score) for s in results] == [("a", 5, 0.875), ("b", 1, None)]
