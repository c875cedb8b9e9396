"""Drift of a whole table: every shared column, p-values corrected, one verdict."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from sluice.errors import ConfigError, DataFormatError, did_you_mean
from sluice.monitoring.drift import DEFAULT_SETTINGS, column_drift, judge
from sluice.monitoring.results import ColumnDrift, DatasetDrift
from sluice.monitoring.settings import DriftSettings
from sluice.monitoring.windows import infer_kind

CORRECTION = "benjamini-hochberg"


def dataset_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    kinds: dict[str, str] | None = None,
    settings: DriftSettings = DEFAULT_SETTINGS,
) -> DatasetDrift:
    """Compare every column the two frames share and decide for the dataset.

    P-values are corrected with Benjamini-Hochberg over the compared columns, so
    that testing 25 columns does not raise 25 chances of a false alarm. The
    dataset drifts when the share of drifted columns, among those that could be
    compared, reaches ``settings.dataset_share``. Columns on one side only are
    listed, not compared.
    """
    _check_unique(reference, "reference")
    _check_unique(current, "current")
    ref_names = [str(c) for c in reference.columns]
    cur_names = [str(c) for c in current.columns]
    shared = [c for c in ref_names if c in cur_names]
    chosen = _resolve_kinds(reference, shared, set(ref_names) | set(cur_names), kinds or {})
    reference = reference.set_axis(ref_names, axis=1)
    current = current.set_axis(cur_names, axis=1)
    results = [
        column_drift(reference[c], current[c], kind=chosen[c], settings=settings, column=c)
        for c in shared
    ]
    return _verdict(results, settings, ref_names, cur_names)


def _verdict(
    results: list[ColumnDrift],
    settings: DriftSettings,
    ref_names: list[str],
    cur_names: list[str],
) -> DatasetDrift:
    """Correct the columns' p-values and decide for the dataset by the share drifted."""
    results = _correct(results, settings)
    compared = [r for r in results if r.method != "none"]
    share = sum(r.drifted for r in compared) / len(compared) if compared else 0.0
    return DatasetDrift(
        columns=tuple(results),
        drifted=bool(compared) and share >= settings.dataset_share,
        share_drifted=share,
        threshold=settings.dataset_share,
        correction=CORRECTION,
        only_in_reference=tuple(c for c in ref_names if c not in cur_names),
        only_in_current=tuple(c for c in cur_names if c not in ref_names),
    )


def _check_unique(frame: pd.DataFrame, side: str) -> None:
    names = [str(c) for c in frame.columns]
    duplicates = sorted({c for c in names if names.count(c) > 1})
    if duplicates:
        raise DataFormatError(
            f"Column names must be unique; the {side} frame repeats {duplicates}. "
            "Rename the columns before comparing."
        )


def _resolve_kinds(
    reference: pd.DataFrame, shared: list[str], known: set[str], kinds: dict[str, str]
) -> dict[str, str]:
    """Kinds given by the caller, inferred from the reference dtype otherwise."""
    for name in kinds:
        if name not in known:
            raise ConfigError(
                f"kinds names column '{name}', which is in neither frame."
                f"{did_you_mean(name, sorted(known))}"
            )
    by_name = {str(c): c for c in reference.columns}
    return {c: kinds.get(c) or infer_kind(reference[by_name[c]]) for c in shared}


def _correct(results: list[ColumnDrift], settings: DriftSettings) -> list[ColumnDrift]:
    """Benjamini-Hochberg over the columns that have a p-value, then re-judge them."""
    from scipy import stats

    indices = [i for i, r in enumerate(results) if r.p_value is not None]
    if not indices:
        return results
    raw = [float(results[i].p_value or 0.0) for i in indices]
    adjusted = stats.false_discovery_control(raw, method="bh")
    corrected = list(results)
    for i, p in zip(indices, adjusted, strict=True):
        corrected[i] = judge(replace(results[i], p_value_corrected=float(p)), settings)
    return corrected
