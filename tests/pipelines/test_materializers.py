"""Materializers: values round-trip through bytes, nothing is ever unpickled."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestClassifier

from sluice.artifacts import content_hash
from sluice.errors import PipelineError, UnsafeArtifact
from sluice.pipelines.materializers import (
    canonical_json,
    load,
    materializer_for,
    materializer_named,
    save,
)
from sluice.pipelines.types import Materializer
from sluice.workspace import Workspace

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _round_trip(value: object) -> object:
    materializer, data = save(value)
    return load(materializer.name, data)


@given(json_values)
def test_json_values_round_trip_and_have_one_canonical_form(value: object) -> None:
    assert _round_trip(value) == value
    reordered = json.loads(json.dumps(value))
    assert canonical_json(reordered) == canonical_json(value)
    assert save(value)[1] == save(reordered)[1]


def test_dict_key_order_does_not_change_the_bytes() -> None:
    assert save({"a": 1, "b": [1, 2]})[1] == save({"b": [1, 2], "a": 1})[1]


def test_a_dataframe_round_trips_through_parquet_with_its_index_and_types() -> None:
    frame = pd.DataFrame(
        {
            "temp ° C": [1.5, None, 3.0],
            "kind": pd.Categorical(["a", "b", "a"]),
            "when": np.array(["2024-01-01", "2024-01-02", "NaT"], dtype="datetime64[ns]"),
            "flag": [True, False, True],
        },
        index=pd.Index([10, 20, 30], name="id"),
    )
    materializer, data = save(frame)
    assert materializer.name == "pandas.parquet" and data[:4] == b"PAR1"
    back = load(materializer.name, data)
    pd.testing.assert_frame_equal(back, frame)
    assert save(frame.copy())[1] == data, "the same frame must give the same bytes"


def test_a_series_round_trips_with_its_name() -> None:
    for name in ("cnt", None, 3):
        series = pd.Series([1, 2, 3], name=name)
        back = _round_trip(series)
        assert isinstance(back, pd.Series)
        pd.testing.assert_series_equal(back, series)


def test_a_frame_parquet_cannot_store_gets_a_fix() -> None:
    frame = pd.DataFrame({"a": [object(), object()]})
    with pytest.raises(PipelineError, match="Expected a DataFrame that Parquet can store"):
        save(frame)


def test_numpy_arrays_round_trip_without_pickle() -> None:
    array = np.arange(12, dtype="float32").reshape(3, 4)
    materializer, data = save(array)
    assert materializer.name == "numpy.npy"
    np.testing.assert_array_equal(load(materializer.name, data), array)
    with pytest.raises(PipelineError, match="Object arrays would need pickle"):
        save(np.array([{"a": 1}, None], dtype=object))


def test_scikit_learn_models_go_through_skops_and_load_without_code() -> None:
    x = np.random.default_rng(0).normal(size=(40, 3))
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(x, x[:, 0] > 0)
    materializer, data = save(model)
    assert materializer.name == "sklearn.skops"
    back = load(materializer.name, data)
    np.testing.assert_array_equal(back.predict(x), model.predict(x))


def test_a_model_with_foreign_types_is_refused_on_load() -> None:
    from sklearn.preprocessing import FunctionTransformer

    _, data = save(FunctionTransformer(func=json.dumps))
    with pytest.raises(UnsafeArtifact, match="untrusted types"):
        load("sklearn.skops", data)


def test_bytes_are_stored_as_they_are() -> None:
    assert _round_trip(b"\x00\x01raw") == b"\x00\x01raw"


def test_an_unsupported_type_names_the_type_and_the_fix() -> None:
    class Thing:
        pass

    with pytest.raises(PipelineError) as caught:
        materializer_for(Thing(), "output 'out' of step 'make'")
    assert str(caught.value) == (
        "Expected output 'out' of step 'make' to be a pandas DataFrame or Series, numpy array, "
        "scikit-learn estimator, bytes, or JSON values (dict with str keys, list, str, int, "
        "float, bool, None); got a tests.pipelines.test_materializers."
        "test_an_unsupported_type_names_the_type_and_the_fix.<locals>.Thing. Convert it to "
        "one of those before returning it."
    )
    with pytest.raises(PipelineError, match=r"use float\(x\) or int\(x\)"):
        materializer_for(np.int64(3))
    with pytest.raises(PipelineError, match="dict with str keys"):
        materializer_for({1: "a"})


def test_an_artifact_of_an_unknown_materializer_is_refused() -> None:
    with pytest.raises(PipelineError) as caught:
        materializer_named("pickle")
    assert str(caught.value) == (
        "Expected an artifact stored by one of the materializers bytes, json, numpy.npy, "
        "pandas.parquet, sklearn.skops; got one stored by 'pickle'. Read it with the tool "
        "that wrote it."
    )


def test_every_builtin_materializer_meets_the_contract() -> None:
    from sluice.pipelines.materializers import BUILTIN

    for materializer in BUILTIN:
        assert isinstance(materializer, Materializer)
        assert materializer_named(materializer.name) is materializer
        assert "/" in materializer.media_type


def test_a_step_output_with_the_bytes_of_a_dataset_file_reads_back(
    ws: Workspace, tmp_path: Path
) -> None:
    """Same bytes, same address: the index may carry the dataset's label for a step output."""
    from sluice.data import add_version
    from sluice.pipelines import pipeline, step

    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    parquet = save(frame)[1]
    path = tmp_path / "rows.parquet"
    path.write_bytes(parquet)
    add_version(ws, path, "rows")  # indexed first, under the dataset's label

    @step
    def load() -> pd.DataFrame:
        return frame

    @step
    def count(df: pd.DataFrame) -> int:
        return len(df)

    @pipeline
    def p():
        count(load())

    first = p.run(ws)
    assert first.step("load").outputs["output"] == content_hash(parquet)
    again = p.run(ws)
    assert again.cache_hits == 2 and again.output("count") == 3
    pd.testing.assert_frame_equal(again.output("load"), frame)
