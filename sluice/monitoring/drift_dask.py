"""Drift of a partitioned current window on a Dask cluster: ``dataset_drift``'s numbers.

The reference (training data) is in memory; the current window is a Parquet
dataset too large for one machine. No worker ever holds a whole column: each
partition is turned into a small summary and the summaries are added up.

* categorical: the count of each category (``make_window`` per partition), then
  the in-memory ``_categorical`` on the summed counts: chi-squared, Jensen-Shannon,
  PSI and new categories are exactly those of ``column_drift``.
* numeric: counts of current values below and up to every distinct reference
  value, and over the reference's quantile bins (``stats.sorted_bin_counts``).
  The empirical CDFs can only cross at those values, so the KS statistic is read
  off the counts to the bit, and PSI is the same sum.
* the Wasserstein distance needs the current values in order: the finite values
  are sorted by Dask (a shuffle, one partition per worker at a time), the sizes
  of the sorted partitions give each one's rank offset, and each partition adds
  its share of the integral between the two quantile functions, with the steps
  of ``stats.sorted_wasserstein``; the sum differs only by rounding.

Missing and infinite values are counted per partition as ``make_window`` counts
them. P-values are corrected and verdicts judged by the in-memory functions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from sluice.data.cluster import cluster_work, connect, read_parquet_dataset
from sluice.errors import DataError
from sluice.monitoring import stats
from sluice.monitoring.dataset import _check_unique, _resolve_kinds, _verdict
from sluice.monitoring.drift import (
    DEFAULT_SETTINGS,
    _base,
    _categorical,
    _choose,
    _why_not_comparable,
    judge,
)
from sluice.monitoring.results import ColumnDrift, DatasetDrift
from sluice.monitoring.settings import DriftSettings
from sluice.monitoring.windows import Window, make_window

ArrayF = np.ndarray[Any, np.dtype[np.float64]]
VALUE = "value"


@dataclass(frozen=True)
class _Plan:
    """What every partition needs of the reference: its sorted finite values and
    their distinct values, per numeric column; the kind of every shared column."""

    kinds: dict[str, str]
    sorted_reference: dict[str, ArrayF]
    distinct: dict[str, ArrayF]
    psi_bins: int


@dataclass
class _Numeric:
    """One numeric column of some partitions: sizes, extremes and counts."""

    rows: int
    missing: int
    infinite: int
    n: int
    low: float
    high: float
    below: np.ndarray[Any, np.dtype[np.int64]]  # values < each distinct reference value
    upto: np.ndarray[Any, np.dtype[np.int64]]  # values <= each distinct reference value
    bins: ArrayF  # counts over the reference's PSI bins

    def add(self, other: _Numeric) -> _Numeric:
        return _Numeric(
            self.rows + other.rows,
            self.missing + other.missing,
            self.infinite + other.infinite,
            self.n + other.n,
            min(self.low, other.low),
            max(self.high, other.high),
            self.below + other.below,
            self.upto + other.upto,
            self.bins + other.bins,
        )


@dataclass
class _Categorical:
    """One categorical column of some partitions: rows, missing and each category's count."""

    rows: int
    missing: int
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, other: _Categorical) -> _Categorical:
        counts = dict(self.counts)
        for name, count in other.counts.items():
            counts[name] = counts.get(name, 0) + count
        return _Categorical(self.rows + other.rows, self.missing + other.missing, counts)


def dataset_drift_dask(
    reference: pd.DataFrame,
    current: Any,
    *,
    kinds: dict[str, str] | None = None,
    settings: DriftSettings = DEFAULT_SETTINGS,
    cluster: Any = None,
) -> DatasetDrift:
    """``dataset_drift(reference, current)`` with ``current`` a Parquet folder, glob or file
    (or a ``dask.dataframe``), computed partition by partition on a Dask cluster.

    ``cluster`` is a scheduler address, a ``distributed.Client``, or None for
    ``$SLUICE_DASK_ADDRESS``. Memory per worker is bounded by one partition plus
    the reference's distinct values of one column.
    """
    import dask

    source = current if isinstance(current, str | os.PathLike) else "the current window"
    with (
        connect(cluster) as client,
        dask.config.set(scheduler=client.get),
        cluster_work("computing drift", os.fspath(source)),
    ):
        frame = _as_dask(current)
        _check_unique(reference, "reference")
        _check_unique(frame._meta, "current")
        ref_names = [str(c) for c in reference.columns]
        cur_names = [str(c) for c in frame.columns]
        shared = [c for c in ref_names if c in cur_names]
        chosen = _resolve_kinds(reference, shared, set(ref_names) | set(cur_names), kinds or {})
        reference = reference.set_axis(ref_names, axis=1)
        frame = frame.rename(columns=dict(zip(frame.columns, cur_names, strict=True)))
        windows = {c: make_window(reference[c], chosen[c], c) for c in shared}
        plan = _plan(windows, chosen, settings)
        totals = _summaries(client, frame[shared], plan) if shared else {}
        results = [_column(client, frame, c, windows[c], totals[c], settings) for c in shared]
    return _verdict(results, settings, ref_names, cur_names)


def _as_dask(current: Any) -> Any:
    if isinstance(current, str | os.PathLike):
        return read_parquet_dataset(current, "the current window")
    return current


def _plan(windows: dict[str, Window], kinds: dict[str, str], settings: DriftSettings) -> _Plan:
    numeric = {c: w.values for c, w in windows.items() if kinds[c] == "numeric"}
    return _Plan(
        kinds=dict(kinds),
        sorted_reference=numeric,
        distinct={c: np.unique(v) for c, v in numeric.items()},
        psi_bins=settings.psi_bins,
    )


def _summaries(client: Any, frame: Any, plan: _Plan) -> dict[str, Any]:
    """Every partition summarised on a worker, the summaries added up in a tree."""
    import dask

    shipped = dask.delayed(client.scatter(plan, broadcast=True, hash=False))
    level = [dask.delayed(_summarize)(part, shipped) for part in frame.to_delayed()]
    while len(level) > 1:
        pairs = [level[i : i + 2] for i in range(0, len(level), 2)]
        level = [dask.delayed(_add)(*pair) if len(pair) == 2 else pair[0] for pair in pairs]
    return dict(client.compute(level[0]).result())


def _summarize(part: pd.DataFrame, plan: _Plan) -> dict[str, Any]:
    return {
        str(name): _summarize_numeric(part[name], str(name), plan)
        if plan.kinds[str(name)] == "numeric"
        else _summarize_categorical(part[name])
        for name in part.columns
    }


def _summarize_numeric(series: pd.Series, name: str, plan: _Plan) -> _Numeric:
    window = make_window(series, "numeric", name)
    values, distinct = window.values, plan.distinct[name]
    reference = plan.sorted_reference[name]
    if len(reference):
        bins = stats.sorted_bin_counts(reference, values, plan.psi_bins)[1]
    else:
        bins = np.zeros(0)
    return _Numeric(
        rows=window.rows,
        missing=window.missing,
        infinite=window.infinite,
        n=window.n,
        low=float(values[0]) if len(values) else np.inf,
        high=float(values[-1]) if len(values) else -np.inf,
        below=np.searchsorted(values, distinct, side="left").astype(np.int64),
        upto=np.searchsorted(values, distinct, side="right").astype(np.int64),
        bins=bins,
    )


def _summarize_categorical(series: pd.Series) -> _Categorical:
    window = make_window(series, "categorical", str(series.name))
    counts = window.counts if window.counts is not None else np.zeros(0, dtype=np.int64)
    named = dict(zip((str(v) for v in window.values), (int(c) for c in counts), strict=True))
    return _Categorical(window.rows, window.missing, named)


def _add(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    return {name: left[name].add(right[name]) for name in left}


def _column(
    client: Any, frame: Any, name: str, ref: Window, total: Any, settings: DriftSettings
) -> ColumnDrift:
    if isinstance(total, _Categorical):
        cur = _categorical_window(total)
        base = _base(name, "categorical", ref, cur)
        problem = _why_not_comparable(ref, cur, settings)
        return replace(base, reason=problem) if problem else _categorical(ref, cur, settings, base)
    cur = Window(
        values=np.array([total.low, total.high]),  # the extremes only, standing for n values
        rows=total.rows,
        missing=total.missing,
        infinite=total.infinite,
        counts=np.array([total.n], dtype=np.int64),
    )
    base = _base(name, "numeric", ref, cur)
    problem = _why_not_comparable(ref, cur, settings)
    if problem is not None:
        return replace(base, reason=problem)
    return _numeric(client, frame[name], ref, total, settings, base)


def _categorical_window(total: _Categorical) -> Window:
    names = np.asarray(list(total.counts), dtype=object)
    counts = np.asarray(list(total.counts.values()), dtype=np.int64)
    return Window(names, total.rows, total.missing, counts=counts)


def _numeric(
    client: Any, column: Any, ref: Window, total: _Numeric, settings: DriftSettings, base: Any
) -> ColumnDrift:
    """``drift._numeric`` from the summed counts, and the Wasserstein distance from a sort."""
    statistic = _ks_statistic(ref.values, total)
    ref_bins = stats.sorted_bin_counts(ref.values, ref.values[:1], settings.psi_bins)[0]
    result = replace(
        base,
        method=_choose("numeric", ref.n, total.n, settings),
        statistic=statistic,
        p_value=_ks_p_value(statistic, ref.n, total.n),
        effect_size=_normalized_wasserstein(client, column, ref.values, total.n),
        psi=stats.psi(ref_bins, total.bins),
    )
    result = judge(result, settings)
    if ref.values[0] == ref.values[-1] and total.low == total.high:
        note = f"constant column (reference {ref.values[0]:g}, current {total.low:g}); "
        result = replace(result, reason=note + result.reason)
    return result


def _ks_statistic(reference: ArrayF, total: _Numeric) -> float:
    """The largest gap between the empirical CDFs, as ``stats.sorted_ks_test`` finds it.

    Between two distinct reference values the reference CDF is flat and the
    current one rises, so the gap is largest at a reference value (counts up to
    it) or just before one (counts below it, against the reference CDF of the
    previous value).
    """
    n1, n2 = len(reference), total.n
    distinct = np.unique(reference)
    ref_upto = np.searchsorted(reference, distinct, side="right")
    ref_below = np.searchsorted(reference, distinct, side="left")
    at = np.abs(ref_upto / n1 - total.upto / n2)
    before = np.abs(ref_below / n1 - total.below / n2)
    return float(max(np.max(at), np.max(before)))


def _ks_p_value(statistic: float, n1: int, n2: int) -> float:
    """SciPy's asymptotic two-sided p-value, as in ``stats.sorted_ks_test``."""
    from scipy import stats as scipy_stats

    m, n = sorted([float(n1), float(n2)], reverse=True)
    p_value = scipy_stats.kstwo.sf(statistic, np.round(m * n / (m + n)))
    return float(np.clip(p_value, 0.0, 1.0))


def _normalized_wasserstein(client: Any, column: Any, reference: ArrayF, n2: int) -> float:
    """``stats.sorted_normalized_wasserstein`` with the current values sorted by Dask."""
    distance = _wasserstein(client, column, reference, n2)
    spread = float(np.std(reference))
    if spread == 0.0:
        return 0.0 if distance == 0.0 else float("inf")
    return distance / spread


def _wasserstein(client: Any, column: Any, reference: ArrayF, n2: int) -> float:
    """The sorted current partitions are computed twice: once for their sizes, then,
    each knowing its rank offset, for its share of the integral. The sort's
    boundaries are fixed when the graph is built, so both runs see the same parts."""
    import dask

    finite = column.to_frame(VALUE).map_partitions(_finite, meta={VALUE: "f8"})
    parts = finite.sort_values(VALUE).to_delayed()
    sizes = client.compute([dask.delayed(len)(part) for part in parts], sync=True)
    if sum(sizes) != n2:
        raise DataError(
            f"Expected the current window to stay as it was while it was read; it held {n2} "
            f"finite values, then {sum(sizes)}. Run again once its files stop changing."
        )
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    shipped = dask.delayed(client.scatter(reference, broadcast=True, hash=False))
    shares = [
        dask.delayed(_wasserstein_share)(shipped, part, int(offset), n2)
        for part, offset, size in zip(parts, offsets, sizes, strict=True)
        if size
    ]
    return float(sum(client.compute(shares, sync=True))) / (len(reference) * n2)


def _finite(part: pd.DataFrame) -> pd.DataFrame:
    window = make_window(part[VALUE], "numeric", VALUE)
    return pd.DataFrame({VALUE: window.values})


def _wasserstein_share(reference: ArrayF, part: pd.DataFrame, offset: int, n2: int) -> float:
    """This part's sum of width * gap over the steps of ``stats.sorted_wasserstein``.

    The part holds the current values of ranks ``offset`` to ``offset + len - 1``; the
    steps in units of 1 / (n1 * n2) are j * n1 for those ranks and i * n2 for the
    reference ranks that fall between, up to the next part's first step.
    """
    current = np.sort(part[VALUE].to_numpy(dtype=float))
    n1, size = len(reference), len(current)
    start, stop = offset * n1, (offset + size) * n1
    i_first, i_last = -(-start // n2), -(-stop // n2)  # ceilings
    steps = np.concatenate(
        [
            np.arange(i_first, i_last, dtype=np.int64) * n2,
            np.arange(offset, offset + size, dtype=np.int64) * n1,
        ]
    )
    steps.sort(kind="stable")
    widths = np.diff(steps, append=stop)
    gaps = reference[steps // n2] - current[steps // n1 - offset]
    return float(np.dot(widths, np.abs(gaps)))
