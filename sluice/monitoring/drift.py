"""Drift of one column: choose the method, compute the statistics, state the verdict.

The method is chosen by the column's kind and by the sizes of BOTH windows: a
test's p-value when one is small, an effect size when both are large, because
on thousands of rows a test flags differences too small to matter.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from sluice.errors import ConfigError, did_you_mean
from sluice.monitoring import stats
from sluice.monitoring.results import ColumnDrift
from sluice.monitoring.settings import DriftSettings
from sluice.monitoring.windows import KINDS, Window, make_window

DEFAULT_SETTINGS = DriftSettings()

TESTS = {"ks": "Kolmogorov-Smirnov", "chi_squared": "chi-squared"}
EFFECTS = {
    "wasserstein": ("normalized Wasserstein distance", "wasserstein"),
    "jensen_shannon": ("Jensen-Shannon distance", "jensen_shannon"),
}
OTHER = "other"


def column_drift(
    reference: pd.Series,
    current: pd.Series,
    *,
    kind: str,
    settings: DriftSettings = DEFAULT_SETTINGS,
    column: str | None = None,
) -> ColumnDrift:
    """Compare one column between a reference and a current window.

    Never raises on odd data (empty, tiny, constant, all-null, infinite): those
    give ``drifted=False`` or a plain verdict with the reason stated.
    """
    name = column if column is not None else str(reference.name or current.name or "")
    if kind not in KINDS:
        raise ConfigError(
            f"Column kind must be one of {', '.join(KINDS)}; got {kind!r} for column "
            f"'{name}'.{did_you_mean(kind, KINDS)}"
        )
    ref, cur = make_window(reference, kind, name), make_window(current, kind, name)
    base = _base(name, kind, ref, cur)
    problem = _why_not_comparable(ref, cur, settings)
    if problem is not None:
        return replace(base, reason=problem)
    if kind == "numeric":
        return _numeric(ref, cur, settings, base)
    return _categorical(ref, cur, settings, base)


def _base(name: str, kind: str, ref: Window, cur: Window) -> ColumnDrift:
    """The counts every result reports, before any statistic is computed."""
    return ColumnDrift(
        column=name,
        kind=kind,
        drifted=False,
        method="none",
        reason="",
        n_reference=ref.n,
        n_current=cur.n,
        missing_reference=ref.missing_share,
        missing_current=cur.missing_share,
        infinite_reference=ref.infinite,
        infinite_current=cur.infinite,
    )


def _why_not_comparable(ref: Window, cur: Window, settings: DriftSettings) -> str | None:
    """The stated outcome when the windows cannot be compared, else None."""
    for side, window in (("reference", ref), ("current", cur)):
        if window.rows and window.missing == window.rows:
            return (
                f"all-null column in the {side} window ({window.rows} rows, all missing): "
                "distributions not compared; see the missing shares"
            )
    for side, window in (("reference", ref), ("current", cur)):
        if window.n < settings.min_rows:
            left_out = f" after leaving out {window.infinite} infinite" if window.infinite else ""
            return (
                f"not enough data: {window.n} rows, need at least {settings.min_rows} "
                f"(in the {side} window{left_out})"
            )
    return None


def _numeric(ref: Window, cur: Window, settings: DriftSettings, base: ColumnDrift) -> ColumnDrift:
    """Every numeric statistic, read off the windows' sorted values."""
    statistic, p_value = stats.sorted_ks_test(ref.values, cur.values)
    ref_counts, cur_counts = stats.sorted_bin_counts(ref.values, cur.values, settings.psi_bins)
    result = replace(
        base,
        method=_choose("numeric", ref.n, cur.n, settings),
        statistic=statistic,
        p_value=p_value,
        effect_size=stats.sorted_normalized_wasserstein(ref.values, cur.values),
        psi=stats.psi(ref_counts, cur_counts),
    )
    result = judge(result, settings)
    if ref.values[0] == ref.values[-1] and cur.values[0] == cur.values[-1]:
        note = f"constant column (reference {ref.values[0]:g}, current {cur.values[0]:g}); "
        result = replace(result, reason=note + result.reason)
    return result


def _categorical(
    ref: Window, cur: Window, settings: DriftSettings, base: ColumnDrift
) -> ColumnDrift:
    ref_counts, cur_counts, new = _category_counts(ref, cur, settings.top_k)
    statistic, p_value = stats.chi_squared(ref_counts, cur_counts)
    result = replace(
        base,
        method=_choose("categorical", ref.n, cur.n, settings),
        statistic=statistic,
        p_value=p_value,
        effect_size=stats.jensen_shannon(ref_counts, cur_counts),
        psi=stats.psi(ref_counts, cur_counts),
        new_categories=new,
    )
    return judge(result, settings)


def _category_counts(
    reference: Window, current: Window, top_k: int
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Counts over the top-k categories plus 'other', and the new categories' names.

    Categories are ordered by their frequency in both windows together, ties by
    name, so the result depends neither on row order nor on which window is the
    reference; a category that is new and frequent is compared on its own rather
    than hidden in "other".
    """
    ref_freq = dict(zip(reference.values, _counts(reference), strict=True))
    cur_freq = dict(zip(current.values, _counts(current), strict=True))
    pooled = {c: ref_freq.get(c, 0) + cur_freq.get(c, 0) for c in ref_freq.keys() | cur_freq}
    ordered = sorted(pooled.items(), key=lambda item: (-item[1], str(item[0])))
    top = [name for name, _ in ordered[:top_k]]
    ref_counts = [float(ref_freq.get(c, 0)) for c in top]
    cur_counts = [float(cur_freq.get(c, 0)) for c in top]
    ref_counts.append(float(reference.n - sum(ref_counts)))
    cur_counts.append(float(current.n - sum(cur_counts)))
    new = tuple(sorted(str(c) for c in cur_freq if c not in ref_freq))
    return np.array(ref_counts), np.array(cur_counts), new


def _counts(window: Window) -> list[int]:
    if window.counts is None:
        raise ValueError("A categorical window must carry the count of each category.")
    return [int(c) for c in window.counts]


def _choose(kind: str, n_reference: int, n_current: int, settings: DriftSettings) -> str:
    large = min(n_reference, n_current) > settings.large_sample
    if kind == "numeric":
        return "wasserstein" if large else "ks"
    return "jensen_shannon" if large else "chi_squared"


def judge(result: ColumnDrift, settings: DriftSettings) -> ColumnDrift:
    """Set ``drifted`` and ``reason`` from the chosen method's figure.

    A corrected p-value, when the dataset level has set one, takes the place of
    the raw one.
    """
    sizes = f"{result.n_reference} reference and {result.n_current} current values"
    limit = settings.large_sample
    if result.method in EFFECTS:
        label, attr = EFFECTS[result.method]
        threshold = getattr(settings, attr)
        effect = float(result.effect_size or 0.0)
        drifted = effect > threshold
        reason = (
            f"both windows are large ({sizes}, more than {limit} each): the verdict rests on "
            f"the {label}, {effect:.3g} {'>' if drifted else '<='} {threshold}, because "
            "p-values flag trivial differences on large samples"
        )
        if effect == float("inf"):
            reason += "; the reference is constant, so any change is infinite in its units"
        return replace(result, drifted=drifted, reason=reason)
    corrected = result.p_value_corrected is not None
    chosen = result.p_value_corrected if corrected else result.p_value
    p_value = 1.0 if chosen is None else chosen
    drifted = p_value < settings.p_value
    which = "corrected p-value" if corrected else "p-value"
    reason = (
        f"a window is small ({sizes}, at most {limit} in one): the verdict rests on the "
        f"{TESTS[result.method]} test's {which}, {p_value:.3g} "
        f"{'<' if drifted else '>='} {settings.p_value}"
    )
    return replace(result, drifted=drifted, reason=reason)
