"""Odd windows end in a stated outcome: never an exception, never a false alarm.

The baseline is the 2011 bike data (as the monitor builds it from the model's
signature); each window is rows drawn from that same data with one oddity.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sluice.models.signature import infer_signature
from sluice.monitoring import MonitorSettings, Status
from sluice.monitoring.evaluate import Baseline, Evaluation, WindowData, evaluate_window
from sluice.monitoring.reference import conform, drift_kinds
from tests.monitoring.bikes import FEATURES, trained_2011

SETTINGS = MonitorSettings()


def _signature() -> dict[str, Any]:
    return infer_signature(trained_2011().train[FEATURES], task="regression").to_dict()


def _baseline(**changes: Any) -> Baseline:
    signature = _signature()
    frame = conform(trained_2011().train[FEATURES], signature)
    values: dict[str, Any] = {
        "model": "bike-demand",
        "version": 1,
        "task": "regression",
        "reference": frame,
        "reference_name": "bikes-2011@1",
        "kinds": drift_kinds(signature),
        "signature": signature,
        "predictions_note": "not needed here",
    }
    return Baseline(**(values | changes))


def _window(frame: pd.DataFrame, baseline: Baseline | None = None) -> Evaluation:
    base = baseline or _baseline()
    data = WindowData(0.0, 3600.0, "1h", conform(frame, base.signature))
    return evaluate_window(data, base, SETTINGS, monitor="edge")


def _drawn(n: int = 600, seed: int = 11) -> pd.DataFrame:
    return trained_2011().train[FEATURES].sample(n, random_state=seed).reset_index(drop=True)


def test_rows_from_the_reference_are_ok() -> None:
    result = _window(_drawn())
    assert result.status is Status.OK, result.verdict
    assert result.findings == ()
    assert result.verdict == "OK: no drift, decay or data problem found (9 columns compared)."


def test_an_empty_window_is_insufficient() -> None:
    result = _window(_drawn().iloc[:0])
    assert result.status is Status.INSUFFICIENT
    assert result.verdict == "Insufficient data: empty window: no predictions were logged in it."


def test_a_tiny_window_says_how_many_rows_it_needs() -> None:
    result = _window(_drawn().iloc[:7])
    assert result.status is Status.INSUFFICIENT
    assert result.verdict == "Insufficient data: not enough data: 7 rows, need at least 30."
    assert result.summary["data_drift"] is None


def test_a_category_never_seen_is_named() -> None:
    frame = _drawn()
    frame.loc[:39, "weathersit"] = "hail"
    result = _window(frame)
    assert result.summary["new_categories"] == {"weathersit": ["hail"]}
    kinds = [f.kind for f in result.findings]
    assert "new_categories" in kinds
    message = next(f.message for f in result.findings if f.kind == "new_categories")
    assert message == "column 'weathersit' has categories never seen in the reference: 'hail'"


def test_an_all_null_column_is_a_missing_values_finding_not_a_crash() -> None:
    frame = _drawn()
    frame["hum"] = np.nan
    result = _window(frame)
    hum = next(c for c in result.summary["data_drift"]["columns"] if c["column"] == "hum")
    assert not hum["drifted"]
    assert hum["reason"].startswith("all-null column in the current window")
    assert [f.kind for f in result.findings] == ["missing_values"]
    assert result.findings[0].message == (
        "column 'hum' is missing in 100.0% of rows against 0.0% in the reference "
        "(more than 10% points up)"
    )
    assert result.summary["missing"][0]["column"] == "hum"


def test_a_constant_column_on_both_sides_is_stated_and_not_drift() -> None:
    signature = _signature()
    signature["inputs"].append({"name": "fleet", "kind": "numeric", "dtype": "int64"})
    frame = trained_2011().train[FEATURES].assign(fleet=7)
    base = _baseline(
        reference=conform(frame, signature), kinds=drift_kinds(signature), signature=signature
    )
    result = _window(_drawn().assign(fleet=7), base)
    fleet = next(c for c in result.summary["data_drift"]["columns"] if c["column"] == "fleet")
    assert not fleet["drifted"]
    assert fleet["statistic"] == 0.0 and fleet["psi"] == pytest.approx(0.0, abs=1e-9)
    assert result.status is Status.OK, result.verdict


def test_a_column_on_one_side_only_is_listed_not_compared() -> None:
    frame = _drawn().drop(columns=["windspeed"]).assign(colour="red")
    result = _window(frame)
    assert result.summary["data_drift"]["only_in_reference"] == ["windspeed"]
    assert result.summary["data_drift"]["only_in_current"] == ["colour"]
    assert "column 'windspeed' is in the reference but not in the window" in result.summary["notes"]
    assert "column 'colour' is in the window but not in the reference" in result.summary["notes"]
    assert result.status is Status.OK, result.verdict


def test_datetimes_compare_as_instants_whatever_their_time_zone() -> None:
    frame = _drawn()
    frame["dteday"] = frame["dteday"].dt.tz_localize("UTC").dt.tz_convert("America/New_York")
    result = _window(frame)
    dteday = next(c for c in result.summary["data_drift"]["columns"] if c["column"] == "dteday")
    assert dteday["kind"] == "numeric" and not dteday["drifted"], dteday["reason"]
    assert result.summary["distributions"]["dteday"]["kind"] == "numeric"


def test_datetimes_sent_as_text_are_parsed() -> None:
    frame = _drawn()
    frame["dteday"] = frame["dteday"].dt.strftime("%Y-%m-%d")
    result = _window(frame)
    dteday = next(c for c in result.summary["data_drift"]["columns"] if c["column"] == "dteday")
    assert not dteday["drifted"] and dteday["missing_current"] == 0.0


def test_infinite_values_are_counted_and_left_out() -> None:
    frame = _drawn()
    frame.loc[:9, "temp"] = np.inf
    result = _window(frame)
    temp = next(c for c in result.summary["data_drift"]["columns"] if c["column"] == "temp")
    assert temp["infinite_current"] == 10
    assert temp["n_current"] == len(frame) - 10
    assert result.status is Status.OK, result.verdict


@pytest.mark.parametrize(("yes", "no"), [(True, False), (1, 0), ("true", "false"), (1.0, 0.0)])
def test_booleans_in_any_spelling_are_the_same_category(yes: Any, no: Any) -> None:
    frame = _drawn()
    frame["holiday"] = frame["holiday"].map({True: yes, False: no})
    result = _window(frame)
    holiday = next(c for c in result.summary["data_drift"]["columns"] if c["column"] == "holiday")
    assert holiday["new_categories"] == [] and not holiday["drifted"], holiday["reason"]
    assert result.summary["distributions"]["holiday"]["labels"] == ["false", "true"]
