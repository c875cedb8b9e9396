"""Preprocessing from a schema: every column kind, odd names, missing values, unseen values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from sluice.data import infer_schema
from sluice.data.schema import Schema
from sluice.errors import ModelError
from sluice.models.features import build_model, build_preprocessor, columns_by_kind
from sluice.models.transformers import BooleanToFloat, CategoryStrings, DatetimeFeatures
from tests.models.conftest import K, R, col, odd_frame, odd_schema


def test_columns_are_grouped_by_kind_and_unusable_roles_dropped() -> None:
    groups = columns_by_kind(odd_schema("regression"))
    assert groups == {
        "numeric": ["temp °C"],
        "categorical": ["city.name"],
        "boolean": ["is member"],
        "datetime": ["signup date"],
    }


def test_the_preprocessor_gives_a_finite_matrix_with_named_features() -> None:
    df = odd_frame(400)
    pre = build_preprocessor(odd_schema("regression")).fit(df)
    out = pre.transform(df)
    names = list(pre.get_feature_names_out())
    assert out.shape == (400, len(names)) and np.isfinite(out).all()
    assert "numeric__temp °C" in names and "boolean__is member" in names
    assert "categorical__city.name_Zürich" in names
    assert "categorical__city.name___missing__" in names
    hour = [n for n in names if n.startswith("datetime__signup date__")]
    assert [n.rsplit("__", 1)[1] for n in hour] == [
        "year",
        "month",
        "day",
        "dayofweek",
        "dayofyear",
        "hour",
        "weekend",
    ]
    assert not any("ID" in n or "always one" in n or n.endswith("__y") for n in names)


def test_unseen_categories_and_rows_with_everything_missing_still_predict() -> None:
    df = odd_frame(400)
    model = build_model(odd_schema("regression"), Ridge()).fit(df.drop(columns=["y"]), df["y"])
    strange = pd.DataFrame(
        {
            "ID": [1, 2],
            "temp °C": [np.nan, 20.0],
            "city.name": ["Ouagadougou", None],
            "is member": [None, "TRUE"],
            "signup date": ["not a date", "2025-02-01 08:00"],
            "always one": [1, 1],
        }
    )
    assert np.isfinite(model.predict(strange)).all()


def test_rare_categories_are_grouped() -> None:
    values = ["a"] * 200 + ["b"] * 200 + [f"rare{i}" for i in range(5)]
    schema = Schema((col("c", K.CATEGORICAL), col("y", K.NUMERIC, R.TARGET)), target="y")
    pre = build_preprocessor(schema).fit(pd.DataFrame({"c": values}))
    names = list(pre.get_feature_names_out())
    assert names == ["categorical__c_a", "categorical__c_b", "categorical__c_infrequent_sklearn"]


def test_a_time_column_read_as_text_becomes_calendar_features() -> None:
    schema = Schema((col("when", K.CATEGORICAL, R.TIME), col("y", K.NUMERIC, R.TARGET)), target="y")
    assert columns_by_kind(schema)["datetime"] == ["when"]


def test_a_schema_without_features_is_refused() -> None:
    schema = Schema((col("ID", K.NUMERIC, R.ID), col("y", K.NUMERIC, R.TARGET)), target="y")
    with pytest.raises(ModelError) as err:
        build_preprocessor(schema)
    assert str(err.value) == (
        "Expected at least one feature column (numeric, categorical, boolean or datetime); the "
        "schema has none left after dropping id, constant, ignored and target columns. Add "
        "feature columns to the data or change the roles in sluice.yaml."
    )


def test_datetime_features_values() -> None:
    stamps = pd.DataFrame(
        {"d": pd.to_datetime(pd.Series(["2024-03-02 13:00", "2024-03-04 00:00", None]))}
    )
    out = DatetimeFeatures().fit(stamps).transform(stamps)
    np.testing.assert_array_equal(out[0], [2024, 3, 2, 5, 62, 13, 1])  # a Saturday
    np.testing.assert_array_equal(out[1], [2024, 3, 4, 0, 64, 0, 0])
    assert np.isnan(out[2]).all()
    dates_only = DatetimeFeatures().fit(pd.DataFrame({"d": ["2024-01-01", "2024-01-02"]}))
    assert "d__hour" not in dates_only.get_feature_names_out()


def test_booleans_and_categories_from_messy_text() -> None:
    flags = pd.DataFrame({"f": ["yes", "No", True, 0, None, "maybe"]})
    out = BooleanToFloat().fit(flags).transform(flags)[:, 0]
    np.testing.assert_array_equal(out[:4], [1.0, 0.0, 1.0, 0.0])
    assert np.isnan(out[4]) and np.isnan(out[5])
    cats = pd.DataFrame({"c": [1, 1.0, "1", None, 2.5]})
    assert list(CategoryStrings().fit(cats).transform(cats)[:, 0]) == [
        "1",
        "1",
        "1",
        "__missing__",
        "2.5",
    ]


def test_the_schema_sluice_data_infers_for_the_bike_data_trains(bike: pd.DataFrame) -> None:
    frame = bike.head(2000).drop(columns=["casual", "registered"])
    schema = infer_schema(frame, target="cnt", time_column="dteday")
    model = build_model(schema, Ridge()).fit(frame.drop(columns=["cnt"]), frame["cnt"])
    names = model[0].get_feature_names_out()
    assert "datetime__dteday__hour" in names and not any("instant" in n for n in names)


def test_datetime_text_with_mixed_offsets_gives_calendar_features_in_utc() -> None:
    X = pd.DataFrame(
        {
            "t": [
                "2024-01-01T01:00:00+02:00",
                "2024-01-02T10:00:00+00:00",
                "2024-01-06T22:00:00-05:00",
            ]
        }
    )
    out = DatetimeFeatures().fit(X).transform(X)
    # columns: year, month, day, dayofweek, dayofyear, hour, weekend
    # of 23:00 Dec 31, 10:00 Jan 2 and 03:00 Jan 7 (UTC)
    assert out[:, 2].tolist() == [31, 2, 7] and out[:, 5].tolist() == [23, 10, 3]
