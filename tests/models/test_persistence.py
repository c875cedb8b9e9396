"""skops persistence: round trips, and refusal of anything outside the allow-list."""

from __future__ import annotations

import io
import json
import pickle
import re
import zipfile

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import Ridge

from sluice.errors import ModelError, UnsafeArtifact
from sluice.models.candidates import candidates_for
from sluice.models.features import build_model
from sluice.models.persistence import dumps, loads, untrusted_types
from tests.models.conftest import odd_frame, odd_schema


class Sneaky(BaseEstimator):
    """A type no allow-list knows: stands in for anything a stranger could ship."""

    def __init__(self, payload: str = "rm -rf /") -> None:
        self.payload = payload


def _rewrite_schema(data: bytes, edit: dict[str, str]) -> bytes:
    """The same skops file with the top object's type replaced (a tampered artifact)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "schema.json":
                tree = json.loads(content)
                tree.update(edit)
                content = json.dumps(tree).encode()
            target.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_every_candidate_round_trips_with_its_preprocessing(task: str) -> None:
    df = odd_frame(300, classes=3 if task == "classification" else 0)
    X, y = df.drop(columns=["y"]), df["y"]
    for cand in candidates_for(task):
        model = build_model(odd_schema(task), cand.make()).fit(X, y)
        again = loads(dumps(model))
        if task == "regression":
            np.testing.assert_allclose(again.predict(X), model.predict(X), rtol=1e-12)
        else:
            np.testing.assert_array_equal(again.predict(X), model.predict(X))
            np.testing.assert_allclose(again.predict_proba(X), model.predict_proba(X), rtol=1e-12)
        assert untrusted_types(dumps(model)) == []


def test_a_foreign_type_is_refused_and_named() -> None:
    data = dumps(Sneaky())
    with pytest.raises(UnsafeArtifact) as err:
        loads(data)
    message = str(err.value)
    assert "untrusted types: tests.models.test_persistence.Sneaky" in message
    assert "Pass trusted=True only if you trust the source" in message
    assert loads(data, trusted=True).payload == "rm -rf /"


def test_a_tampered_model_pointing_at_os_system_is_refused() -> None:
    good = dumps(Ridge().fit([[1.0], [2.0]], [1.0, 2.0]))
    evil = _rewrite_schema(good, {"__module__": "os", "__class__": "system"})
    with pytest.raises(UnsafeArtifact, match=r"untrusted types: os\.system\."):
        loads(evil)


def test_bytes_that_are_not_a_skops_file_are_a_model_error() -> None:
    for data in (b"not a model", pickle.dumps(Ridge())):
        with pytest.raises(ModelError, match="Expected a skops model file; got") as err:
            loads(data)
        assert "saved by sluice" in str(err.value)


def test_an_object_skops_cannot_save_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="Expected an object skops can save") as err:
        dumps(i for i in range(3))
    assert "got generator" in str(err.value)


def _tamper(data: bytes, field: str) -> bytes:
    """The skops file with one inner node's ``field`` (a child index) pointing far away."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        done = False
        for info in src.infolist():
            raw = src.read(info.filename)
            if info.filename.endswith(".npy") and not done:
                array = np.load(io.BytesIO(raw), allow_pickle=False)
                if array.dtype.names and field in array.dtype.names:
                    array = array.copy()
                    inner = np.flatnonzero(array[field] > 0)[0]
                    array[field][inner] = 10**6
                    buffer = io.BytesIO()
                    np.save(buffer, array, allow_pickle=False)
                    raw, done = buffer.getvalue(), True
            dst.writestr(info, raw)
    assert done, f"no node array with {field!r} in the file"
    return out.getvalue()


@pytest.mark.parametrize(
    ("model", "field", "where"),
    [
        (
            RandomForestRegressor(n_estimators=3, random_state=0),
            "left_child",
            "estimators_.0.tree_",
        ),
        (HistGradientBoostingRegressor(max_iter=3), "left", "_predictors.0.0"),
    ],
)
def test_a_tree_with_a_child_index_out_of_range_is_refused(
    model: object, field: str, where: str
) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((200, 4))
    model.fit(X, X[:, 0] * 3)  # type: ignore[attr-defined]
    data = dumps(model)
    assert loads(data).predict(X[:2]).shape == (2,)  # type: ignore[attr-defined]
    with pytest.raises(UnsafeArtifact, match=rf"model\.{re.escape(where)} has a child index"):
        loads(_tamper(data, field))
