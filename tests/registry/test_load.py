"""load_model end to end: a real pipeline trained on the bike data, stored, verified, checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin

from sluice.errors import ArtifactCorrupted, ModelError, SignatureMismatch, UnsafeArtifact
from sluice.models.persistence import dumps
from sluice.models.signature import Signature
from sluice.registry import LoadedModel, load_model, register_version
from sluice.workspace import Workspace
from tests.registry.conftest import Trained


class Doubler(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """A transformer from outside the allow-list: loading it needs trusted=True."""

    def fit(self, X: object, y: object = None) -> Doubler:
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return X * 2


def register(
    ws: Workspace, trained: Trained, model: object | None = None, name: str = "bike-demand"
) -> int:
    mv = register_version(
        ws,
        name,
        model_bytes=dumps(model if model is not None else trained.model),
        signature=Signature.from_frame(trained.X_train),
        params={"max_iter": 60},
        metrics={"rmse": 1.0},
        seed=0,
    )
    return mv.version


def test_load_and_predict_like_the_original(any_ws: Workspace, trained: Trained) -> None:
    register(any_ws, trained)
    loaded = load_model("models:/bike-demand@champion", workspace=any_ws)
    assert isinstance(loaded, LoadedModel)
    assert (loaded.name, loaded.version, loaded.uri) == ("bike-demand", 1, "models:/bike-demand/1")
    assert loaded.metadata["params"] == {"max_iter": 60}
    assert loaded.signature == Signature.from_frame(trained.X_train)
    expected = trained.model.predict(trained.X_test)
    np.testing.assert_array_equal(loaded.predict(trained.X_test), expected)
    reordered = trained.X_test[list(reversed(trained.X_test.columns))]
    np.testing.assert_array_equal(loaded.predict(reordered), expected)
    rmse = float(np.sqrt(np.mean((expected - trained.y_test) ** 2)))
    base = float(np.sqrt(np.mean((trained.baseline.predict(trained.X_test) - trained.y_test) ** 2)))
    assert rmse < 0.8 * base, "a real model, clearly better than the mean"


def test_predict_proba_needs_a_classifier(any_ws: Workspace, trained: Trained) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from tests.registry.conftest import NUMERIC

    busy = (trained.y_train > trained.y_train.median()).map({True: "busy", False: "quiet"})
    clf = Pipeline([("lr", LogisticRegression(max_iter=500))]).fit(trained.X_train[NUMERIC], busy)
    mv = register_version(
        any_ws,
        "busy-hour",
        model_bytes=dumps(clf),
        signature=Signature.from_frame(trained.X_train[NUMERIC]),
        params={},
        metrics={},
    )
    loaded = load_model(mv.uri, workspace=any_ws)
    proba = loaded.predict_proba(trained.X_test[NUMERIC])
    assert proba.shape == (len(trained.X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    register(any_ws, trained)
    with pytest.raises(ModelError) as info:
        load_model("models:/bike-demand", workspace=any_ws).predict_proba(trained.X_test)
    assert str(info.value) == (
        "Expected a classifier for predict_proba; models:/bike-demand/1 is a Pipeline without "
        "probabilities. Use predict instead."
    )


def test_tampered_bytes_are_refused(ws: Workspace, trained: Trained) -> None:
    register(ws, trained)
    mv_hash = load_model("models:/bike-demand/1", workspace=ws).model_version.artifact_hash
    blob = ws.artifacts.path(mv_hash)  # type: ignore[attr-defined]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(ArtifactCorrupted) as info:
        load_model("models:/bike-demand/1", workspace=ws)
    assert str(info.value).startswith(
        f"Artifact {mv_hash} in {ws.artifacts} is corrupted: its bytes hash to "
    )
    assert str(info.value).endswith("Restore it from a backup or re-run the step that produced it.")


def test_untrusted_types_are_refused_unless_trusted(ws: Workspace, trained: Trained) -> None:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline

    from tests.registry.conftest import NUMERIC

    X = trained.X_train[NUMERIC]
    odd = Pipeline([("double", Doubler()), ("ridge", Ridge())]).fit(X, trained.y_train)
    mv = register_version(
        ws, "odd", model_bytes=dumps(odd), signature=Signature.from_frame(X), params={}, metrics={}
    )
    with pytest.raises(UnsafeArtifact) as info:
        load_model(mv.uri, workspace=ws)
    assert "got untrusted types: tests.registry.test_load.Doubler" in str(info.value)
    assert "Pass trusted=True only if you trust the source of this model." in str(info.value)
    loaded = load_model(mv.uri, workspace=ws, trusted=True)
    np.testing.assert_allclose(
        loaded.predict(trained.X_test[NUMERIC]), odd.predict(trained.X_test[NUMERIC])
    )


def test_signature_mismatch_names_the_columns(ws: Workspace, trained: Trained) -> None:
    register(ws, trained)
    loaded = load_model("models:/bike-demand@champion", workspace=ws)
    renamed = trained.X_test.rename(columns={"hr": "hour"})
    with pytest.raises(SignatureMismatch) as missing:
        loaded.predict(renamed)
    assert str(missing.value) == (
        "Expected input columns that match the model's signature; got: missing column 'hr' "
        "(did you mean 'hour'?); unknown column 'hour' (did you mean 'hr'?). "
        "Send the columns the model was trained on, with the same kinds."
    )
    with pytest.raises(SignatureMismatch) as info:
        loaded.predict(trained.X_test.assign(temp="warm"))
    assert "got: column 'temp' should be numeric (float64), got str." in str(info.value)


def test_load_model_uses_the_current_workspace(sluice_home: object, trained: Trained) -> None:
    from sluice.workspace import current

    register(current(), trained)
    loaded = load_model("models:/bike-demand/1")
    assert loaded.predict(trained.X_test[:5]).shape == (5,)
