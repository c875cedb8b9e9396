"""Schema inference: kinds, roles and task, on the bike data and on odd frames."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from sluice.data import ColumnKind, Role, Schema, infer_schema
from sluice.errors import ColumnNotFound, ConfigError, DataError


def test_bike_roles_kinds_and_task(bike_frame: pd.DataFrame) -> None:
    schema = infer_schema(bike_frame, target="cnt", time_column="dteday")
    roles = {c.name: c.role for c in schema.columns}
    assert roles["instant"] == Role.ID  # a unique integer counter
    assert roles["dteday"] == Role.TIME
    assert roles["cnt"] == Role.TARGET
    assert roles["hr"] == Role.FEATURE
    assert schema.task == "regression"
    assert schema.column("dteday").kind == ColumnKind.DATETIME
    assert schema.column("temp").kind == ColumnKind.NUMERIC
    assert schema.column("hr").min == 0 and schema.column("hr").max == 23
    assert schema.column("dteday").min == "2011-01-01T00:00:00"
    assert "instant" not in schema.feature_names() and "dteday" in schema.feature_names()
    assert schema.features_of("datetime") == ["dteday"]


def test_classification_targets() -> None:
    n = 60
    frame = pd.DataFrame(
        {
            "flag": [True, False] * (n // 2),
            "label": ["a", "b", "c"] * (n // 3),
            "digit": list(range(10)) * (n // 10),
            "binary_float": [0.0, 1.0] * (n // 2),
            "amount": np.linspace(0, 100, n),
            "many_ints": list(range(n)),
        }
    )
    tasks = {name: infer_schema(frame, target=name).task for name in frame.columns}
    assert tasks == {
        "flag": "classification",
        "label": "classification",
        "digit": "classification",
        "binary_float": "classification",
        "amount": "regression",
        "many_ints": "regression",
    }


def test_constant_categorical_and_text_columns() -> None:
    n = 200
    frame = pd.DataFrame(
        {
            "const": ["same"] * n,
            "city": ["Paris", "Lyon", None, "Nice"] * (n // 4),
            "note": [f"free text number {i}" for i in range(n)],
            "code": [f"C{i % 150}" for i in range(n)],
        }
    )
    schema = infer_schema(frame)
    assert schema.column("const").role == Role.CONSTANT
    city = schema.column("city")
    assert city.kind == ColumnKind.CATEGORICAL and city.nullable and city.missing_share == 0.25
    assert city.categories == ("Lyon", "Nice", "Paris")  # ties broken by value
    assert schema.column("note").kind == ColumnKind.TEXT
    assert schema.column("note").role == Role.ID  # every row different, never missing
    assert schema.column("code").kind == ColumnKind.TEXT
    assert schema.column("code").role == Role.FEATURE


def test_small_unique_integers_are_not_ids() -> None:
    schema = infer_schema(pd.DataFrame({"x": [3, 1, 2]}))
    assert schema.column("x").role == Role.FEATURE


def test_target_absent_suggests_the_nearest_name(bike_frame: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound) as info:
        infer_schema(bike_frame, target="count")
    message = str(info.value)
    assert "Expected the target 'count' among the data's columns" in message
    assert "Did you mean 'cnt'?" in message
    assert "names are case-sensitive" in message


def test_time_column_absent(bike_frame: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound, match=r"time column 'dtday'.*Did you mean 'dteday'\?"):
        infer_schema(bike_frame, time_column="dtday")


def test_task_override_and_unknown_task(bike_frame: pd.DataFrame) -> None:
    assert infer_schema(bike_frame, target="season", task="regression").task == "regression"
    with pytest.raises(
        ConfigError,
        match=r"one of classification, regression; got 'clasification'\. "
        r"Did you mean 'classification'\?",
    ):
        infer_schema(bike_frame, target="season", task="clasification")


def test_a_date_target_is_refused(bike_frame: pd.DataFrame) -> None:
    with pytest.raises(
        DataError, match="Expected a numeric, boolean or categorical target; 'dteday' holds dates"
    ):
        infer_schema(bike_frame, target="dteday")


def test_all_null_target_has_no_task() -> None:
    schema = infer_schema(pd.DataFrame({"x": [1.0, 2.0], "y": [None, None]}), target="y")
    assert schema.task is None and schema.column("y").missing_share == 1.0


def test_schema_column_lookup_suggests(bike_frame: pd.DataFrame) -> None:
    schema = infer_schema(bike_frame)
    with pytest.raises(ColumnNotFound, match=r"Did you mean 'temp'\?"):
        schema.column("tmp")


odd_values = st.one_of(
    st.none(),
    st.integers(-(2**62), 2**62),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.booleans(),
)

odd_frames = data_frames(
    columns=[
        column("i", dtype=np.int64),
        column("f", dtype=float),
        column("s", elements=st.one_of(st.none(), st.text(max_size=5))),
        column("b", dtype=bool),
        column("mixed", elements=odd_values),
        column("dt", dtype="datetime64[ns]"),
        column("name with space.é", elements=st.sampled_from(["x", "y"])),
    ],
    index=range_indexes(min_size=0, max_size=40),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking frames takes minutes
)
@given(frame=odd_frames)
def test_inference_on_odd_frames_round_trips_as_json(frame: pd.DataFrame) -> None:
    schema = infer_schema(frame)
    assert schema.names == [str(c) for c in frame.columns]
    as_json = json.dumps(schema.to_dict(), allow_nan=False)
    assert Schema.from_dict(json.loads(as_json)) == schema
    for col in schema.columns:
        assert 0.0 <= col.missing_share <= 1.0
        assert col.n_unique <= len(frame)
        assert len(col.categories) <= 50
        if col.n_unique <= 1:
            assert col.role == Role.CONSTANT


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.integers(0, 5)), min_size=1, max_size=50))
def test_task_of_small_integer_targets(values: list[int | None]) -> None:
    frame = pd.DataFrame({"x": range(len(values)), "y": pd.array(values, dtype="Int64")})
    schema = infer_schema(frame, target="y")
    if all(v is None for v in values):
        assert schema.task is None
    else:
        assert schema.task == "classification"
