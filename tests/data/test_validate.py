"""Validation: every anomaly kind, its severity and its message."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from sluice.data import (
    AnomalyKind,
    Severity,
    ValidationReport,
    infer_schema,
    profile_frame,
    validate,
)
from sluice.errors import ValidationFailed


def _kinds(report: ValidationReport) -> dict[AnomalyKind, list[str | None]]:
    out: dict[AnomalyKind, list[str | None]] = {}
    for a in report.anomalies:
        out.setdefault(a.kind, []).append(a.column)
    return out


@pytest.fixture
def reference() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50_000, 10_000, n),
            "city": rng.choice(["Paris", "Lyon", "Nice"], n),
            "score": rng.normal(0, 1, n),
            "label": rng.choice(["yes", "no"], n),
        }
    )


def test_clean_data_passes(reference: pd.DataFrame) -> None:
    report = validate(reference, infer_schema(reference, target="label"))
    assert report.ok and report.anomalies == ()
    assert report.to_dict() == {
        "ok": True,
        "n_rows": 400,
        "n_errors": 0,
        "n_warnings": 0,
        "anomalies": [],
    }


def test_bike_registered_and_casual_are_leakage_suspects(bike_frame: pd.DataFrame) -> None:
    report = validate(bike_frame, infer_schema(bike_frame, target="cnt"))
    leaks = [a for a in report.anomalies if a.kind == AnomalyKind.LEAKAGE_SUSPECT]
    assert [a.column for a in leaks] == ["registered", "casual"]
    assert leaks[0].severity == Severity.WARNING and leaks[0].observed > 0.9
    assert "Column 'registered' alone explains 9" in leaks[0].message
    assert leaks[1].message.startswith(
        "Columns 'casual' and 'registered' together explain 100.0% of target 'cnt' "
        "(a linear combination of the two)"
    )
    assert report.ok  # a warning does not fail validation


def test_two_columns_that_sum_to_the_target_leak_together() -> None:
    rng = np.random.default_rng(0)
    part_a, part_b = rng.poisson(30, 500), rng.poisson(150, 500)
    frame = pd.DataFrame(
        {"part a": part_a, "part.b": part_b, "noise": rng.normal(size=500), "y": part_a + part_b}
    )
    report = validate(frame, infer_schema(frame, target="y"))
    leaks = [a for a in report.anomalies if a.kind == AnomalyKind.LEAKAGE_SUSPECT]
    assert sorted(str(a.column) for a in leaks) == ["part a", "part.b"]
    assert all(a.observed == 1.0 and a.expected == "< 0.99" for a in leaks)


def test_independent_features_are_not_suspects() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    frame["y"] = frame["a"] + frame["b"] + rng.normal(scale=1.0, size=400)
    report = validate(frame, infer_schema(frame, target="y"))
    assert [a for a in report.anomalies if a.kind == AnomalyKind.LEAKAGE_SUSPECT] == []


def test_leakage_in_classification(reference: pd.DataFrame) -> None:
    frame = reference.assign(copied=reference["label"].map({"yes": 1, "no": 0}))
    report = validate(frame, infer_schema(frame, target="label"))
    assert _kinds(report)[AnomalyKind.LEAKAGE_SUSPECT] == ["copied"]


def test_every_drift_anomaly_against_a_reference_schema(reference: pd.DataFrame) -> None:
    schema = infer_schema(reference, target="label")
    new = reference.drop(columns=["score"]).copy()
    new["extra"] = 1.0
    new["age"] = new["age"].astype(str) + " years"  # type change
    new["income"] = new["income"].astype(float)
    new.loc[:4, "income"] = np.nan  # nulls where none were seen
    new.loc[5, "income"] = 10_000_000.0  # out of range
    new.loc[6:8, "city"] = "Marseille"  # unseen category
    new = pd.concat([new, new.iloc[:3]], ignore_index=True)  # duplicated rows (3 more nulls)
    report = validate(new, schema)
    kinds = _kinds(report)
    assert kinds[AnomalyKind.MISSING_COLUMN] == ["score"]
    assert kinds[AnomalyKind.NEW_COLUMN] == ["extra"]
    assert kinds[AnomalyKind.TYPE_CHANGE] == ["age"]
    assert kinds[AnomalyKind.NULLS_WHERE_NONE_SEEN] == ["income"]
    assert kinds[AnomalyKind.OUT_OF_RANGE] == ["income"]
    assert kinds[AnomalyKind.UNSEEN_CATEGORIES] == ["city"]
    assert kinds[AnomalyKind.DUPLICATED_ROWS] == [None]
    assert kinds[AnomalyKind.CONSTANT_COLUMN] == ["extra"]
    assert not report.ok
    assert {a.kind for a in report.errors} == {AnomalyKind.MISSING_COLUMN, AnomalyKind.TYPE_CHANGE}
    by_kind = {a.kind: a for a in report.anomalies}
    assert by_kind[AnomalyKind.TYPE_CHANGE].message.startswith(
        "Column 'age' should be numeric; it is now"
    )
    assert by_kind[AnomalyKind.MISSING_COLUMN].message == (
        "Column 'score' (feature, numeric) is missing; "
        "restore it in the data, or remove it from the schema."
    )
    assert "Column 'income' has 8 missing value(s) (2.0%); none were seen before" in (
        by_kind[AnomalyKind.NULLS_WHERE_NONE_SEEN].message
    )
    out = by_kind[AnomalyKind.OUT_OF_RANGE]
    assert out.observed["n_outside"] == 1 and out.expected == [
        schema.column("income").min,
        schema.column("income").max,
    ]
    unseen = by_kind[AnomalyKind.UNSEEN_CATEGORIES]
    assert unseen.observed == {"values": ["Marseille"], "n_rows": 3}
    assert "e.g. 'Marseille'. Models treat them as unknown" in unseen.message
    assert by_kind[AnomalyKind.DUPLICATED_ROWS].observed == 3


def test_missing_share_jumped_against_a_reference_profile(reference: pd.DataFrame) -> None:
    before = reference.copy()
    before.loc[:19, "score"] = np.nan  # 5% missing
    after = reference.copy()
    after.loc[:199, "score"] = np.nan  # 50% missing
    schema = infer_schema(before)
    report = validate(after, schema, reference=profile_frame(before))
    jumped = [a for a in report.anomalies if a.kind == AnomalyKind.MISSING_SHARE_JUMPED]
    assert [a.column for a in jumped] == ["score"]
    assert (jumped[0].observed, jumped[0].expected) == (0.5, 0.05)
    assert "missing in 50.0% of rows, up from 5.0%" in jumped[0].message
    # a DataFrame reference gives the same verdict
    assert validate(after, schema, reference=before).anomalies == report.anomalies


def test_out_of_range_dates(reference: pd.DataFrame) -> None:
    frame = reference.assign(day=pd.date_range("2024-01-01", periods=len(reference), freq="h"))
    later = frame.assign(day=frame["day"] + pd.Timedelta(days=365))
    report = validate(later, infer_schema(frame))
    out = [a for a in report.anomalies if a.kind == AnomalyKind.OUT_OF_RANGE]
    assert [a.column for a in out] == ["day"] and out[0].expected[0] == "2024-01-01T00:00:00"


def test_naive_dates_against_a_time_zone_aware_range(reference: pd.DataFrame) -> None:
    days = pd.date_range("2024-01-01", periods=len(reference), freq="h", tz="UTC")
    frame = reference.assign(day=days)
    later = frame.assign(day=(days + pd.Timedelta(days=365)).tz_localize(None))
    report = validate(later, infer_schema(frame))
    out = [a for a in report.anomalies if a.kind == AnomalyKind.OUT_OF_RANGE]
    assert [a.column for a in out] == ["day"] and out[0].expected[0] == "2024-01-01T00:00:00+00:00"


def test_constant_column_is_a_warning(reference: pd.DataFrame) -> None:
    frame = reference.assign(source="crm")
    report = validate(frame, infer_schema(frame))
    constant = [a for a in report.anomalies if a.kind == AnomalyKind.CONSTANT_COLUMN]
    assert [a.column for a in constant] == ["source"] and constant[0].severity == Severity.WARNING
    assert "has 1 distinct value(s); it carries no information" in constant[0].message


def test_target_all_null_is_an_error(reference: pd.DataFrame) -> None:
    schema = infer_schema(reference, target="label")
    report = validate(reference.assign(label=None), schema)
    errors = {a.kind: a for a in report.errors}
    assert AnomalyKind.TARGET_ALL_NULL in errors
    assert errors[AnomalyKind.TARGET_ALL_NULL].message.startswith(
        "Target 'label' is missing in every row"
    )
    with pytest.raises(ValidationFailed) as info:
        report.raise_for_errors("train.csv")
    assert info.value.exit_code == 1 and info.value.report is report
    assert str(info.value).startswith(
        "Expected train.csv to pass validation; found 1 error(s): Target 'label'"
    )


def test_single_class_is_an_error(reference: pd.DataFrame) -> None:
    schema = infer_schema(reference, target="label")
    report = validate(reference.assign(label="yes"), schema)
    single = [a for a in report.errors if a.kind == AnomalyKind.SINGLE_CLASS]
    assert single and single[0].observed == ["yes"]
    assert "has a single class ('yes'); a classifier needs at least two" in single[0].message


def test_report_serialises(reference: pd.DataFrame) -> None:
    report = validate(reference.assign(source="crm"), infer_schema(reference))
    data = report.to_dict()
    assert data["ok"] is True and data["n_warnings"] == 2  # new column, constant
    assert {a["kind"] for a in data["anomalies"]} == {"new_column", "constant_column"}
    assert all(a["severity"] == "warning" for a in data["anomalies"])


def test_text_columns_are_compatible_with_categorical(reference: pd.DataFrame) -> None:
    many = reference.assign(city=[f"town {i}" for i in range(len(reference))])
    report = validate(many, infer_schema(reference))
    assert AnomalyKind.TYPE_CHANGE not in _kinds(report)
    assert AnomalyKind.UNSEEN_CATEGORIES in _kinds(report)


odd_frames = data_frames(
    columns=[
        column("f", dtype=float),
        column("i", elements=st.integers(-(2**40), 2**40)),
        column("s", elements=st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))),
        column("o", elements=st.one_of(st.none(), st.integers(), st.text(max_size=3))),
        column(
            "y", elements=st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))
        ),
    ],
    index=range_indexes(min_size=1, max_size=60),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking frames takes minutes
)
@given(train=odd_frames, new=odd_frames)
def test_validation_of_odd_frames_never_crashes_and_serialises(
    train: pd.DataFrame, new: pd.DataFrame
) -> None:
    schema = infer_schema(train, target="y")
    for report in (validate(new, schema), validate(new, schema, reference=train)):
        json.dumps(report.to_dict(), default=str)
        assert report.ok == (not report.errors)
        for anomaly in report.anomalies:
            assert anomaly.message and anomaly.kind in AnomalyKind
