"""Request bodies against a signature: every shape accepted, every problem named, nothing else."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sluice.errors import InvalidRequest, SignatureMismatch
from sluice.models.signature import Signature, SignatureColumn
from sluice.serving.parsing import Plan, build_frame

SIGNATURE = Signature(
    (
        SignatureColumn("temp", "numeric", "float64"),
        SignatureColumn("season", "categorical", "str", ("spring", "summer", "winter")),
        SignatureColumn("city", "categorical", "str", None),
        SignatureColumn("holiday", "boolean", "bool"),
        SignatureColumn("when", "datetime", "datetime64[us]"),
    )
)
GOOD = {
    "temp": 0.3,
    "season": "winter",
    "city": "Zürich",
    "holiday": False,
    "when": "2024-05-01T13:00:00",
}


def plan(**kw: Any) -> Plan:
    return Plan.from_signature(SIGNATURE, **kw)


def body(data: Any) -> bytes:
    return json.dumps(data).encode()


def problems(raw: bytes, **kw: Any) -> list[dict[str, Any]]:
    with pytest.raises(InvalidRequest) as info:
        plan(**kw).parse(raw)
    assert isinstance(info.value, SignatureMismatch), "a typed error of the model branch"
    assert info.value.problems, "every refusal lists its problems"
    return info.value.problems


def only(raw: bytes, **kw: Any) -> dict[str, Any]:
    found = problems(raw, **kw)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    "data",
    [
        {"records": [GOOD, GOOD]},
        [GOOD, GOOD],
        {"columns": {k: [v, v] for k, v in GOOD.items()}},
    ],
    ids=["records", "bare-list", "columns"],
)
def test_every_shape_gives_the_same_columns(data: Any) -> None:
    parsed = plan().parse(body(data))
    assert parsed.n == 2
    assert parsed.columns["temp"] == [0.3, 0.3]
    assert parsed.columns["season"] == ["winter", "winter"]
    assert parsed.columns["holiday"] == [False, False]
    assert parsed.columns["when"] == [dt.datetime(2024, 5, 1, 13)] * 2
    assert parsed.flags == ["", ""]


def test_one_record() -> None:
    parsed = plan().parse(body({"record": GOOD}))
    assert parsed.n == 1 and parsed.columns["city"] == ["Zürich"]


def test_values_are_converted_to_the_signature_kinds() -> None:
    record = GOOD | {"temp": "12.5", "holiday": "yes", "season": "summer", "city": 7}
    record["when"] = "2024-05-01T13:00:00+02:00"
    parsed = plan().parse(body({"record": record}))
    assert parsed.columns["temp"] == [12.5]
    assert parsed.columns["holiday"] == [True]
    assert parsed.columns["city"] == ["7"]
    assert parsed.columns["when"] == [dt.datetime(2024, 5, 1, 11)], "aware times become UTC"


def test_nulls_are_missing_values_for_every_kind() -> None:
    record = dict.fromkeys(GOOD)
    parsed = plan().parse(body({"record": record}))
    frame = build_frame(plan(), parsed.columns)
    assert math.isnan(frame["temp"][0])
    assert frame["season"].isna().all() and frame["city"].isna().all()
    assert frame["holiday"].isna().all() and frame["when"].isna().all()
    assert frame["temp"].dtype == np.float64
    assert pd.api.types.is_datetime64_any_dtype(frame["when"])


@pytest.mark.parametrize(
    ("raw", "kind", "message"),
    [
        (b"{not json", "malformed_json", "Expected a JSON body; it could not be read"),
        (b"\xff\xfe", "malformed_json", "Expected a JSON body; it could not be read"),
        (b"", "malformed_json", "Expected a JSON body; it could not be read"),
        (b'"text"', "wrong_shape", "Expected a JSON object or list as the body; got the text"),
        (b"42", "wrong_shape", "Expected a JSON object or list as the body; got the number 42"),
        (b"null", "wrong_shape", "Expected a JSON object or list as the body; got null"),
        (b"[]", "empty", "Expected at least one record; got none."),
        (b'{"records": []}', "empty", "Expected at least one record; got none."),
        (b'{"temp": 1}', "wrong_shape", 'To send one record, wrap it in {"record": {...}}.'),
        (b'{"records": {}}', "wrong_shape", "got an object with 'records'"),
        (b'{"columns": {"temp": 1}}', "wrong_shape", "column 'temp' holds the number 1"),
        (
            b'{"columns": {"temp": [1, 2], "season": ["winter"]}}',
            "wrong_shape",
            "Expected every column list to have the same length; got 'temp': 2, 'season': 1.",
        ),
        (b"[1]", "wrong_type", "Record 0: expected a JSON object of column values; got the"),
        (b'[{"temp": NaN}]', "not_finite", "NaN is not valid JSON; send null"),
        (b'[{"temp": -Infinity}]', "not_finite", "-Infinity is not valid JSON"),
        (b"[" * 100_000, "malformed_json", "nests too deeply"),
    ],
)
def test_bodies_that_are_not_records(raw: bytes, kind: str, message: str) -> None:
    problem = only(raw)
    assert problem["kind"] == kind
    assert message in problem["message"]
    assert problem["record"] is None or kind == "wrong_type"


def test_too_many_records() -> None:
    problem = only(body([GOOD] * 4), max_records=3)
    assert problem["kind"] == "too_many_records"
    assert problem["message"] == (
        "Expected at most 3 records in one request; got 4. Split the request, or score files "
        "with `sluice predict`."
    )


@pytest.mark.parametrize(
    ("column", "value", "kind", "message"),
    [
        ("temp", "warm", "unparseable", "expected a number; got 'warm', which is not one."),
        ("temp", "NaN", "not_finite", "expected a finite number; got 'NaN'"),
        ("temp", "-Infinity", "not_finite", "expected a finite number; got '-Infinity'"),
        ("temp", 10**400, "not_finite", "a number too large for a 64-bit float"),
        ("temp", True, "wrong_type", "expected a number; got a boolean."),
        ("temp", {"a": 1}, "wrong_type", "expected a number; got an object."),
        ("temp", [1], "wrong_type", "expected a number; got a list."),
        ("season", "wintr", "unknown_category", "unknown category 'wintr'; expected one of"),
        ("season", {"x": 1}, "wrong_type", "got an object."),
        ("city", [1, 2], "wrong_type", "expected a category (text or number); got a list."),
        ("holiday", "maybe", "unparseable", "expected true or false; got 'maybe'."),
        ("holiday", 2, "unparseable", "expected true or false; got 2."),
        ("holiday", [True], "wrong_type", "expected true or false; got a list."),
        ("when", "yesterday", "unparseable", "expected an ISO 8601 date or date-time"),
        ("when", 1714568400, "wrong_type", "got the number 1714568400."),
    ],
)
def test_each_bad_value_is_named(column: str, value: Any, kind: str, message: str) -> None:
    problem = only(body([GOOD, GOOD | {column: value}]))
    assert (problem["record"], problem["column"], problem["kind"]) == (1, column, kind)
    assert problem["message"].startswith(f"Record 1, column {column!r}: ")
    assert message in problem["message"]
    assert problem["expected"]


def test_a_number_literal_too_large_for_a_float_is_named() -> None:
    raw = body({"record": GOOD | {"temp": "HUGE"}}).replace(b'"HUGE"', b"1e999")
    problem = only(raw)
    assert (problem["column"], problem["kind"]) == ("temp", "not_finite")
    assert problem["message"] == "Record 0, column 'temp': expected a finite number; got inf."


def test_an_unknown_category_hints_at_the_nearest_one() -> None:
    problem = only(body({"record": GOOD | {"season": "wintr"}}))
    assert problem["message"] == (
        "Record 0, column 'season': unknown category 'wintr'; expected one of 'spring', "
        "'summer', 'winter'. Did you mean 'winter'? Send a category seen in training (or start "
        "the server with --unknown-categories flag)."
    )


def test_missing_and_unknown_columns_point_at_each_other() -> None:
    record = {k: v for k, v in GOOD.items() if k != "season"} | {"seasn": "winter"}
    found = problems(body({"record": record}))
    assert {(p["kind"], p["column"]) for p in found} == {
        ("missing_column", "season"),
        ("unknown_column", "seasn"),
    }
    missing = next(p for p in found if p["kind"] == "missing_column")
    assert missing["message"] == (
        "Record 0: missing column 'season'. Did you mean 'seasn'? Send every column of the "
        "signature (null for a missing value)."
    )


def test_every_problem_of_every_record_is_reported_at_once() -> None:
    bad = [GOOD | {"temp": "x"}, GOOD, GOOD | {"holiday": "x", "season": "autumn"}]
    with pytest.raises(InvalidRequest) as info:
        plan().parse(body(bad))
    assert [(p["record"], p["column"]) for p in info.value.problems] == [
        (0, "temp"),
        (2, "season"),
        (2, "holiday"),
    ]
    assert str(info.value).startswith("3 problems in 2 of 3 records; nothing was predicted.")


def test_flag_mode_predicts_unknown_categories_and_notes_them() -> None:
    parsed = plan(unknown_categories="flag").parse(body([GOOD, GOOD | {"season": "autumn"}]))
    assert parsed.columns["season"] == ["winter", "autumn"]
    assert parsed.flags == ["", "unseen category season='autumn'"]


def test_the_frame_has_the_training_kinds() -> None:
    parsed = plan().parse(body([GOOD, GOOD | {"holiday": True}]))
    frame = build_frame(plan(), parsed.columns)
    assert list(frame.columns) == SIGNATURE.names
    assert frame["holiday"].dtype == bool
    assert SIGNATURE.check(frame) is frame


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["winter", "NaN", "1e999", "2024-01-01", "true"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        JSON_VALUES,
        st.lists(st.fixed_dictionaries({k: JSON_VALUES for k in GOOD}), max_size=3),
        st.builds(lambda r: {"records": r}, st.lists(JSON_VALUES, max_size=3)),
    )
)
def test_any_json_is_accepted_or_refused_with_problems(data: Any) -> None:
    try:
        parsed = plan().parse(json.dumps(data).encode())
    except InvalidRequest as exc:
        assert exc.problems and all(p["message"] for p in exc.problems)
        return
    frame = build_frame(plan(), parsed.columns)
    assert len(frame) == parsed.n
    assert np.isfinite(frame["temp"].dropna()).all()


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=40))
def test_any_bytes_are_accepted_or_refused_with_problems(raw: bytes) -> None:
    try:
        plan().parse(raw)
    except InvalidRequest as exc:
        assert exc.problems
