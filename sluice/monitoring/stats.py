"""Pure statistics on clean arrays: no missing values, no infinities.

Each function avoids the degenerate inputs on which SciPy would warn (a zero
spread, a single category), returning the value the statistic has in the limit.

The numeric statistics come in two forms: the plain one takes any arrays, the
``sorted_`` one takes arrays already sorted ascending. A window is sorted once
and all three numeric statistics are read off it; on a million rows that saves
the further sorts that SciPy's KS and Wasserstein functions make on every call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EPSILON = 1e-4
"""Floor for bin shares in PSI, so an empty bin costs a large but finite amount."""

ArrayF = np.ndarray[Any, np.dtype[np.float64]]

CHUNK = 1 << 16
"""Values per block where a statistic scans sorted windows, bounding its scratch memory."""


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
    return sorted_bin_counts(np.sort(reference), np.sort(current), bins)


def sorted_bin_counts(reference: ArrayF, current: ArrayF, bins: int) -> tuple[ArrayF, ArrayF]:
    """``quantile_bin_counts`` of two sorted samples: a few binary searches, no pass over rows."""
    edges = np.unique(np.quantile(reference, np.linspace(0.0, 1.0, bins + 1)[1:]))
    low = reference[0]
    return _sorted_counts(reference, edges, low), _sorted_counts(current, edges, low)


def _sorted_counts(values: ArrayF, edges: ArrayF, low: float) -> ArrayF:
    """Bins: below ``low``; [low, edges[0]]; (edges[k-1], edges[k]]; above the last edge."""
    below = np.searchsorted(values, low, side="left")
    upto = np.searchsorted(values, edges, side="right")
    return np.diff(np.concatenate([[0, below], upto, [len(values)]])).astype(float)


def ks_test(reference: ArrayF, current: ArrayF) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and asymptotic p-value.

    SciPy's exact method fails on some tied samples and then warns that it
    switched; windows hold at least ``min_rows`` values, where the asymptotic
    distribution is close enough, so it is used throughout.
    """
    return sorted_ks_test(np.sort(reference), np.sort(current))


def sorted_ks_test(reference: ArrayF, current: ArrayF) -> tuple[float, float]:
    """``ks_test`` of two sorted samples; the same figures as ``scipy.stats.ks_2samp``.

    The largest gap between the two empirical CDFs is reached at a value of one
    of the samples. There, that sample's CDF is its position after the last tie
    and the other's is one binary search, so SciPy's concatenation and second
    sort are not needed. The arithmetic (counts divided by sizes) is SciPy's, so
    the statistic is equal to the bit; the p-value is SciPy's asymptotic one.
    """
    from scipy import stats

    n1, n2 = len(reference), len(current)
    if not n1 or not n2:
        raise ValueError("The KS test needs values on both sides.")
    statistic = max(_largest_cdf_gap(reference, current), _largest_cdf_gap(current, reference))
    m, n = sorted([float(n1), float(n2)], reverse=True)
    p_value = stats.kstwo.sf(statistic, np.round(m * n / (m + n)))
    return statistic, float(np.clip(p_value, 0.0, 1.0))


def _largest_cdf_gap(sample: ArrayF, other: ArrayF) -> float:
    """max |F_sample - F_other| over the distinct values of the sorted ``sample``.

    Taken a block of values at a time, so the scratch arrays stay small however
    long the windows are.
    """
    n, largest = len(sample), 0.0
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        block = sample[start:stop]
        following = sample[start + 1 : stop + 1]  # one shorter than block in the last one
        ends = np.ones(len(block), dtype=bool)  # the last of each run of ties
        np.not_equal(block[: len(following)], following, out=ends[: len(following)])
        last = np.flatnonzero(ends)
        if not len(last):  # the whole block sits inside one run of ties
            continue
        gaps = (last + (start + 1)) / n
        gaps -= np.searchsorted(other, block[last], side="right") / len(other)
        largest = max(largest, float(np.max(np.abs(gaps, out=gaps))))
    return largest


def normalized_wasserstein(reference: ArrayF, current: ArrayF) -> float:
    """Wasserstein distance in units of the reference's standard deviation.

    A constant reference has no spread to measure by: any distance from it is
    infinite in those units, and none is zero.
    """
    return sorted_normalized_wasserstein(np.sort(reference), np.sort(current))


def sorted_normalized_wasserstein(reference: ArrayF, current: ArrayF) -> float:
    """``normalized_wasserstein`` of two sorted samples."""
    distance = sorted_wasserstein(reference, current)
    spread = float(np.std(reference))
    if spread == 0.0:
        return 0.0 if distance == 0.0 else float("inf")
    return distance / spread


def sorted_wasserstein(reference: ArrayF, current: ArrayF) -> float:
    """First Wasserstein distance of two sorted samples, as ``scipy.stats.wasserstein_distance``.

    SciPy integrates the gap between the CDFs over a third sort of both samples
    together. The same area is the integral over t in (0, 1] of the gap between
    the quantile functions, and those step at i/n1 and j/n2 only: the steps,
    written as integers i*n2 and j*n1 over n1*n2, merge exactly without comparing
    a single value, and between two steps both quantiles are array lookups. The
    integral is summed over blocks of about ``CHUNK`` steps, so scratch arrays stay
    small however long the windows are.
    """
    n1, n2 = len(reference), len(current)
    block = max(1, CHUNK * n1 // (n1 + n2))  # about CHUNK steps of both samples per block
    total = 0.0
    for first in range(0, n1, block):
        last = min(first + block, n1)  # reference steps first*n2 .. (last-1)*n2
        j_first, j_last = -(-first * n2 // n1), -(-last * n2 // n1)  # ceilings
        steps = np.concatenate(
            [
                np.arange(first, last, dtype=np.int64) * n2,
                np.arange(j_first, j_last, dtype=np.int64) * n1,
            ]
        )
        steps.sort(kind="stable")  # two sorted runs: one linear merge
        widths = np.diff(steps, append=last * n2)
        gaps = reference[steps // n2]
        gaps -= current[np.floor_divide(steps, n1, out=steps)]
        total += float(np.dot(widths, np.abs(gaps, out=gaps)))
    return total / (n1 * n2)


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
