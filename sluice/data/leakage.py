"""How well one column alone predicts the target: the leakage-suspect check.

A feature that predicts the target almost perfectly by itself is usually known
only after the outcome (``registered`` riders are part of the count ``cnt``),
so a model trained with it looks excellent and fails in production.

The score is the share of the target's variation that the feature explains,
between 0 and 1:

- regression: the larger of Pearson's r² (linear) and the correlation ratio η²
  of the target over up to 20 groups of the feature (quantile bins for numbers,
  values for categories), adjusted for the number of groups so that many small
  groups do not look predictive;
- classification: how much of the error of always guessing the majority class
  disappears when guessing the majority class of each group
  (Goodman-Kruskal λ), with the same groups.

Two columns can leak together where neither does alone: ``casual + registered ==
cnt`` on every row. :func:`leaking_pairs` finds pairs of numeric features whose
linear combination explains the target almost exactly, from the correlation
matrix alone (the R² of a two-feature regression has a closed form), so every
pair costs a few arithmetic operations.

At most 100,000 rows are scored (a fixed random sample), which is plenty for a
screen and keeps validation fast on large data.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

MAX_ROWS = 100_000
MAX_GROUPS = 20
MIN_ROWS = 30
PAIR_THRESHOLD = 0.99
MAX_PAIR_FEATURES = 60


def leakage_score(feature: pd.Series, target: pd.Series, task: str) -> float | None:
    """Share of the target explained by this feature alone, or None when it cannot be scored."""
    import numpy as np
    import pandas as pd

    pair = pd.DataFrame({"x": feature.to_numpy(), "y": target.to_numpy()}).dropna()
    if len(pair) < MIN_ROWS or pair["x"].nunique() < 2 or pair["y"].nunique() < 2:
        return None
    if len(pair) > MAX_ROWS:
        pair = pair.sample(MAX_ROWS, random_state=0)
    groups = _groups(pair["x"])
    if groups is None:
        return None
    with np.errstate(all="ignore"):  # huge values overflow: the score is then NaN, not scored
        if task == "regression":
            score = _explained_variance(pair["x"], pair["y"].astype(float), groups)
        else:
            score = _lambda(pair["y"], groups)
    return None if math.isnan(score) else score


def _groups(x: pd.Series) -> pd.Series | None:
    import pandas as pd

    if pd.api.types.is_bool_dtype(x) or not pd.api.types.is_numeric_dtype(x):
        codes = x.astype("str")
        top = codes.value_counts().index[: MAX_GROUPS - 1]
        return codes.where(codes.isin(top), "__other__")
    if x.nunique() <= MAX_GROUPS:
        return x
    binned = pd.qcut(x.rank(method="first"), MAX_GROUPS, labels=False, duplicates="drop")
    return binned if binned.nunique() >= 2 else None


def _explained_variance(x: pd.Series, y: pd.Series, groups: pd.Series) -> float:
    import pandas as pd

    total = float(((y - y.mean()) ** 2).sum())
    if total == 0:
        return 0.0
    within = float((y - y.groupby(groups.to_numpy()).transform("mean")).pow(2).sum())
    if not (math.isfinite(total) and math.isfinite(within)):
        return math.nan
    n, k = len(y), groups.nunique()
    eta2 = 1 - (within / max(n - k, 1)) / (total / max(n - 1, 1))
    r2 = 0.0
    if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
        r = x.astype(float).corr(y)
        r2 = float(r) ** 2 if math.isfinite(r) else 0.0
    return max(0.0, min(1.0, max(eta2, r2)))


def _lambda(y: pd.Series, groups: pd.Series) -> float:
    n = len(y)
    base_errors = n - int(y.value_counts().iloc[0])
    if base_errors == 0:
        return 0.0
    per_group = y.groupby(groups.to_numpy()).agg(lambda s: int(s.value_counts().iloc[0]))
    errors = n - int(per_group.sum())
    return max(0.0, min(1.0, 1 - errors / base_errors))


def leaking_pairs(
    frame: pd.DataFrame, features: list[str], target: str
) -> list[tuple[str, str, float]]:
    """Pairs of numeric features that together explain the (numeric) target almost exactly.

    Returns ``(a, b, r2)`` with ``r2 >= PAIR_THRESHOLD``, strongest first.
    """
    import numpy as np
    import pandas as pd

    numeric = [
        c
        for c in features
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ][:MAX_PAIR_FEATURES]
    if len(numeric) < 2:
        return []
    data = frame[[*numeric, target]].dropna()
    if len(data) < MIN_ROWS:
        return []
    if len(data) > MAX_ROWS:
        data = data.sample(MAX_ROWS, random_state=0)
    with np.errstate(all="ignore"):
        corr = np.corrcoef(data.to_numpy(dtype=float), rowvar=False)
    r_y, r_xx = corr[:-1, -1], corr[:-1, :-1]
    found = []
    for i in range(len(numeric)):
        for j in range(i + 1, len(numeric)):
            r2 = _pair_r2(r_y[i], r_y[j], r_xx[i, j])
            if r2 is not None and r2 >= PAIR_THRESHOLD:
                found.append((numeric[i], numeric[j], r2))
    return sorted(found, key=lambda item: -item[2])


def _pair_r2(r1: float, r2: float, r12: float) -> float | None:
    """R² of y ~ x1 + x2 from the three correlations; None when undefined (collinear x)."""
    denominator = 1 - r12 * r12
    if not all(math.isfinite(v) for v in (r1, r2, r12)) or denominator < 1e-9:
        return None
    return max(0.0, min(1.0, (r1 * r1 + r2 * r2 - 2 * r1 * r2 * r12) / denominator))
