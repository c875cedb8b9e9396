"""Retraining on fresh data: the served version's rows plus the labelled prediction log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sluice.data import get_version
from sluice.errors import MonitorError
from sluice.gates.spec import parse_gates
from sluice.monitoring import create_monitor
from sluice.predictions import PredictionLog
from sluice.registry import load_model, resolve
from sluice.templates.tabular.config import load_config
from sluice.templates.tabular.demo import bundled_data, run_demo
from sluice.templates.tabular.retrain import retrain, retrain_from_log
from sluice.workspace import Workspace
from tests.templates.jobs import FAST_DEMO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """Version 1 trained on 2011, then January to March 2012 predicted and labelled."""
    home = tmp_path_factory.mktemp("retrain")
    assert run_demo(home, overrides=FAST_DEMO).exit_code == 0
    frame = pd.read_csv(bundled_data())
    spring = frame[(frame["yr"] == 1) & (frame["mnth"] <= 3)]
    ws = Workspace.at(home)
    try:
        model = load_model("models:/bike-demand@champion", workspace=ws)
        inputs = spring[model.signature.names]
        ids = [f"{i:032x}" for i in range(len(spring))]
        with PredictionLog(ws, "bike-demand") as log:
            log.append(inputs, request_ids=ids, model_version=1, predictions=model.predict(inputs))
            log.append_feedback(request_ids=ids, labels=spring["cnt"].tolist())
    finally:
        ws.close()
    return home, len(spring)


def test_the_retrained_candidate_beats_the_champion_and_takes_the_alias(
    served: tuple[Path, int],
) -> None:
    home, logged = served
    ws = Workspace.at(home)
    try:
        done = retrain(ws, load_config(home / "sluice.yaml"), window_rows=4000, promote=True)
        assert done.new_rows == logged
        assert done.dataset_rows == 4000
        assert done.gates_passed and done.promoted
        assert done.registered == "models:/bike-demand/2"
        assert resolve(ws, "models:/bike-demand@champion").version == 2
        no_regression = next(g for g in done.gates if g["kind"] == "no_regression")
        assert "against the champion (version 1)" in no_regression["reason"]
        assert no_regression["observed"] < 0  # better than the champion on the same holdout
        data = get_version(ws, "bike-sharing-hour")
        assert data.version == 2 and data.n_rows == 4000
        assert resolve(ws, "models:/bike-demand/2").dataset_version_id == data.id
        assert done.report_path.exists()
    finally:
        ws.close()


def test_a_failed_gate_registers_nothing_and_moves_no_alias(served: tuple[Path, int]) -> None:
    home, _ = served
    ws = Workspace.at(home)
    try:
        before = resolve(ws, "models:/bike-demand@champion").version
        config = load_config(home / "sluice.yaml")
        strict = config.model_copy(
            update={"gates": parse_gates([{"kind": "metric", "metric": "r2", "min": 0.999}])}
        )
        done = retrain(ws, strict, window_rows=3000, promote=True)
        assert not done.gates_passed and not done.promoted and done.registered is None
        assert resolve(ws, "models:/bike-demand@champion").version == before
    finally:
        ws.close()


def test_a_monitor_without_a_retrain_config_is_refused(served: tuple[Path, int]) -> None:
    home, _ = served
    ws = Workspace.at(home)
    try:
        monitor = create_monitor(ws, "no-retrain", model="bike-demand@champion", window="500rows")
        with pytest.raises(MonitorError, match=r"has none\. Recreate it with --retrain"):
            retrain_from_log(ws, monitor, None)
    finally:
        ws.close()
