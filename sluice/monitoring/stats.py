"""Pure statistics on clean arrays: no missing values, no infinities.

Each function avoids the degenerate inputs on which SciPy would warn (a zero
spread, a single category), returning the value the statistic has in the limit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EPSILON = 1e-4
"""Floor for bin shares in PSI, so an empty bin costs a large but finite amount."""

ArrayF = np.ndarray[Any, np.dtype[np.float64]]


def psi(reference_counts: ArrayF, current_counts: ArrayF) -> float:
    """Population stability index between two histograms over the same bins.

    Shares are floored at ``EPSILON`` (and renormalised) so that a bin empty on
    one side does not make the index infinite. Each term is (c - r) * ln(c / r),
    never negative, so the sum is never negative either.
    """
    ref = _shares(reference_counts)
    cur = _shares(current_counts)
    return float(max(np.sum((cur - ref) * np.log(cur / ref)), 0.0))


def _shares(counts: ArrayF) -> ArrayF:
    shares = np.maximum(counts / max(counts.sum(), 1.0), EPSILON)
    return shares / shares.sum()


def quantile_bin_counts(reference: ArrayF, current: ArrayF, bins: int) -> tuple[ArrayF, ArrayF]:
    """Counts of both windows over quantile bins of the reference.

    Ties in the reference merge bins. Two outer bins catch values below the
    reference's minimum and above its maximum, so a constant reference still
    tells "same value", "lower" and "higher" apart.
    """
    edges = np.unique(np.quantile(reference, np.linspace(0.0, 1.0, bins + 1)[1:]))
    n_bins = len(edges) + 2
    low = float(np.min(reference))
    return _bin_counts(reference, edges, low, n_bins), _bin_counts(current, edges, low, n_bins)


def _bin_counts(values: ArrayF, edges: ArrayF, low: float, n_bins: int) -> ArrayF:
    index = np.where(values < low, 0, 1 + np.searchsorted(edges, values, side="left"))
    return np.bincount(index, minlength=n_bins).astype(float)


def ks_test(reference: ArrayF, current: ArrayF) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and asymptotic p-value.

    SciPy's exact method fails on some tied samples and then warns that it
    switched; windows hold at least ``min_rows`` values, where the asymptotic
    distribution is close enough, so it is used throughout.
    """
    from scipy import stats

    result = stats.ks_2samp(reference, current, method="asymp")
    return float(result.statistic), float(result.pvalue)


def normalized_wasserstein(reference: ArrayF, current: ArrayF) -> float:
    """Wasserstein distance in units of the reference's standard deviation.

    A constant reference has no spread to measure by: any distance from it is
    infinite in those units, and none is zero.
    """
    from scipy import stats

    distance = float(stats.wasserstein_distance(reference, current))
    spread = float(np.std(reference))
    if spread == 0.0:
        return 0.0 if distance == 0.0 else float("inf")
    return distance / spread


def chi_squared(reference_counts: ArrayF, current_counts: ArrayF) -> tuple[float, float]:
    """Chi-squared test of homogeneity on the 2 x K table of counts.

    Categories empty in both windows are dropped; with fewer than two left the
    windows cannot differ, which is stated as statistic 0 and p-value 1.
    """
    from scipy import stats

    table = np.vstack([reference_counts, current_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def jensen_shannon(reference_counts: ArrayF, current_counts: ArrayF) -> float:
    """Jensen-Shannon distance (base 2, so between 0 and 1) of two histograms."""
    ref = reference_counts / reference_counts.sum()
    cur = current_counts / current_counts.sum()
    mid = (ref + cur) / 2.0
    divergence = (_kl(ref, mid) + _kl(cur, mid)) / 2.0
    return float(np.sqrt(max(divergence, 0.0)))


def _kl(p: ArrayF, q: ArrayF) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / q[mask])))
