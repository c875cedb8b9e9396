"""Performance from feedback against the holdout: a real classifier, labels through the log.

Labels that still follow the rule the model learnt keep it within tolerance;
labels shuffled (the relation between inputs and target gone) are concept drift.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sluice.data import add_version
from sluice.errors import MonitorError
from sluice.models.metrics import compute_all, outcome
from sluice.models.persistence import dumps
from sluice.models.signature import infer_signature
from sluice.monitoring import Status, create_monitor, run_monitor
from sluice.monitoring.performance import choose_metric, performance
from sluice.predictions import PredictionLog
from sluice.registry import register_version
from sluice.workspace import Workspace
from tests.monitoring.bikes import FEATURES, JAN_2013, NUMERIC, trained_2011

BUSY = 150


def _classifier() -> tuple[Any, pd.DataFrame, pd.Series, dict[str, float]]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    data = trained_2011().train
    X = data[NUMERIC]
    y = np.where(data["cnt"] > BUSY, "busy", "quiet")
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X[:7000], y[:7000])
    holdout = compute_all(outcome(model, X[7000:], y[7000:], "classification"), "classification")
    return model, X, pd.Series(y), holdout


def _log(ws: Workspace, model: Any, X: pd.DataFrame, labels: pd.Series) -> None:
    ids = [uuid.uuid4().hex for _ in range(len(X))]
    with PredictionLog(ws, "busy-hours", flush_interval=60.0) as log:
        for i in range(0, len(X), 250):
            part = X.iloc[i : i + 250].reset_index(drop=True)
            proba = model.predict_proba(part)
            log.append(
                part,
                request_ids=ids[i : i + 250],
                model_version=1,
                predictions=model.classes_[proba.argmax(axis=1)],
                probabilities=proba,
                classes=list(model.classes_),
                timestamp=JAN_2013 + i,
            )
        log.append_feedback(request_ids=ids, labels=labels.tolist())


@pytest.mark.parametrize("shuffled", [False, True])
def test_a_classifier_decays_only_when_the_labels_stop_following_the_inputs(
    tmp_path: Path, shuffled: bool
) -> None:
    model, X, y, holdout = _classifier()
    ws = Workspace.at(tmp_path / "home")
    X.assign(busy=y.to_numpy()).to_csv(tmp_path / "busy.csv", index=False)
    dataset = add_version(ws, tmp_path / "busy.csv", "busy-2011", target="busy")
    register_version(
        ws,
        "busy-hours",
        model_bytes=dumps(model),
        signature=infer_signature(X, model, task="classification"),
        params={},
        metrics=holdout,
        dataset_version_id=None if shuffled else dataset.id,
    )
    sample = X.sample(2000, random_state=5)
    labels = y.loc[sample.index]
    if shuffled:
        labels = pd.Series(np.random.default_rng(0).permutation(labels.to_numpy()))
    _log(ws, model, sample, labels.reset_index(drop=True))
    if shuffled:  # this version does not record its training data: name it
        with pytest.raises(MonitorError) as caught:
            create_monitor(ws, "busy", model="busy-hours", window="1000rows")
        assert str(caught.value) == (
            "Expected models:/busy-hours/1 to record its training data, to compare production "
            "with; it has none. Name a reference with --reference DATASET@VERSION."
        )
    reference = "busy-2011@1" if shuffled else None
    create_monitor(ws, "busy", model="busy-hours", window="1000rows", reference=reference)
    outcome = run_monitor(ws, "busy")
    assert len(outcome.results) == 2
    for result in outcome.results:
        found = result.summary["performance"]
        assert found["metric"] == "roc_auc" and found["rows"] == 1000
        assert set(found["metrics"]) >= {"accuracy", "roc_auc", "log_loss", "brier"}
        assert found["holdout"] == pytest.approx(holdout["roc_auc"])
        if shuffled:
            assert found["decayed"] and found["value"] < 0.6, found["reason"]
            assert result.status is Status.DECAY
        else:
            assert not found["decayed"], found["reason"]
            assert result.status is Status.OK, result.summary["verdict"]
        assert not result.summary["prediction_drift"]["drifted"]
        assert result.summary["prediction_drift"]["kind"] == "categorical"
    ws.close()


def test_regression_performance_within_and_beyond_tolerance() -> None:
    data = trained_2011().train.iloc[-1000:]
    predictions = trained_2011().model.predict(data[FEATURES])
    labelled = pd.DataFrame({"prediction": predictions, "label": data["cnt"].to_numpy()})
    holdout = trained_2011().metrics
    kept = performance(
        labelled, task="regression", holdout=holdout, metric="rmse", tolerance=0.1, min_rows=30
    )
    assert not kept.decayed, kept.reason
    worse = labelled.assign(label=labelled["label"] * 1.8)
    decayed = performance(
        worse, task="regression", holdout=holdout, metric="rmse", tolerance=0.1, min_rows=30
    )
    assert decayed.decayed
    assert decayed.reason.startswith(f"rmse is {decayed.value:.4g} on 1000 labelled rows against ")
    assert "more than the 10% tolerance" in decayed.reason
    few = performance(
        labelled.iloc[:12], task="regression", holdout=holdout, metric="rmse", tolerance=0.1,
        min_rows=30,
    )  # fmt: skip
    assert not few.decayed and few.value is None
    assert few.reason == "not enough labelled rows: 12, need at least 30; performance not judged"


def test_the_metric_is_the_models_own_or_the_tasks_default() -> None:
    assert choose_metric("regression", {"rmse": 1.0, "mae": 2.0}, None) == "rmse"
    assert choose_metric("regression", {"mae": 2.0}, None) == "mae"
    assert choose_metric("classification", {"roc_auc": 0.9}, "f1") == "f1"
