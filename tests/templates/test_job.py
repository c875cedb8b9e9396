"""The whole main job on real data: run, cached re-run, failing gate, validation stop."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from sluice.data import read_table
from sluice.registry import list_versions, load_model, resolve
from sluice.templates.tabular.config import parse_config
from sluice.templates.tabular.demo import demo_config, run_demo
from sluice.templates.tabular.pipeline import run_job
from sluice.tracking import get_run
from sluice.workspace import Workspace
from tests.templates.jobs import FAST_DEMO, counts, job_yaml, mixed_frame


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The bike demo (reduced) run twice in one folder, with both wall times."""
    home = tmp_path_factory.mktemp("demo")
    started = time.perf_counter()
    first = run_demo(home, overrides=FAST_DEMO)
    first_time = time.perf_counter() - started
    started = time.perf_counter()
    second = run_demo(home, overrides=FAST_DEMO)
    second_time = time.perf_counter() - started
    return {"home": home, "first": first, "second": second, "t1": first_time, "t2": second_time}


def test_demo_registers_version_one_with_lineage(demo_runs: dict) -> None:
    first = demo_runs["first"]
    s = first.summary
    assert first.exit_code == 0, s["outcome"]
    assert s["registered"]["uri"] == "models:/bike-demand/1"
    assert set(s["registered"]["aliases"]) == {"champion", "challenger"}
    assert s["data"]["name"] == "bike-sharing-hour" and s["data"]["n_rows"] == 8645
    assert s["split"]["time_ordered"] is True
    assert s["cleaning"]["dropped_columns"][:3] == ["instant", "casual", "registered"]
    assert [r["name"] for r in s["leaderboard"] if r["chosen"]] == [s["choice"]["winner"]]
    assert s["holdout"]["metrics"]["rmse"] < s["holdout"]["baseline"]["rmse"]
    assert all(g["passed"] for g in s["gates"]) and len(s["gates"]) == 6
    assert all(r["run_id"] for r in s["leaderboard"]), "each candidate is a tracked run"
    ws = Workspace.at(demo_runs["home"])
    try:
        version = resolve(ws, "models:/bike-demand@champion")
        assert version.pipeline_run_id == s["run_id"]
        assert version.dataset_version_id == s["data"]["id"]
        assert version.card_hash is not None
        tracked = get_run(ws, s["leaderboard"][0]["run_id"])
        assert tracked.pipeline_run_id == s["run_id"] and tracked.experiment == "bike-demand"
        assert f"cv_{s['metric']}" in tracked.metrics and "fit_seconds" in tracked.metrics
        model = load_model("models:/bike-demand@champion", workspace=ws)
        frame = read_table(demo_config()["data"]["path"]).head(5)
        frame = frame.drop(columns=["cnt", "instant", "casual", "registered", "yr"])
        assert len(model.predict(frame)) == 5
    finally:
        ws.close()


def test_second_run_is_fully_cached_fast_and_registers_nothing_new(demo_runs: dict) -> None:
    second = demo_runs["second"].summary
    assert demo_runs["second"].exit_code == 0
    assert second["timing"]["cache_hits"] == second["timing"]["steps"] == 10
    assert all(step["cached"] for step in second["steps"])
    assert "Nothing new to register" in second["outcome"]["message"]
    assert second["registered"]["version"] == 1
    ws = Workspace.at(demo_runs["home"])
    try:
        assert [v.version for v in list_versions(ws, "bike-demand")] == [1]
    finally:
        ws.close()
    # The pipeline itself: a small fraction of the first run's.
    assert second["timing"]["total"] < demo_runs["first"].summary["timing"]["total"] / 5


def test_report_is_self_contained_and_tells_the_whole_story(demo_runs: dict) -> None:
    html = Path(demo_runs["first"].report_path).read_text(encoding="utf-8")
    for section in (
        "Validation",
        "Candidates",
        "Chosen:",
        "Holdout",
        "Slices",
        "Permutation importance",
        "Gates",
        "Lineage",
        "Steps",
    ):
        assert section in html, section
    assert "bike-sharing-hour@1" in html and "models:/bike-demand/1" in html
    assert "<svg" in html and "<script" not in html and "http://cdn" not in html
    cached = Path(demo_runs["second"].report_path).read_text(encoding="utf-8")
    assert "10 of 10 steps were cache hits" in cached


def test_failing_gate_registers_nothing_keeps_run_and_report(tmp_path: Path) -> None:
    raw = demo_config(FAST_DEMO)
    raw["gates"] = [{"kind": "metric", "metric": "r2", "min": 0.999}, {"kind": "validation"}]
    ws = Workspace.at(tmp_path / "home")
    try:
        result = run_job(ws, parse_config(raw))
        s = result.summary
        assert result.exit_code == 1
        assert s["registered"] is None
        assert "1 of 2 gates failed (r2 >= 0.999)" in s["outcome"]["message"]
        failed = next(g for g in s["gates"] if not g["passed"])
        assert failed["threshold"] == 0.999 and failed["observed"] < 0.999
        assert counts(ws)["model_versions"] == 0
        assert result.report_path.exists()
        assert "FAIL" in result.report_path.read_text(encoding="utf-8")
        assert s["status"] == "completed"
    finally:
        ws.close()


def test_binary_classification_on_credit_default(tmp_path: Path, shared_data: Path) -> None:
    data = shared_data / "credit-default" / "default_of_credit_card_clients.csv.gz"
    raw = {
        "project": {"name": "credit", "objective": "Who will default next month?"},
        "data": {"path": str(data), "target": "default payment next month", "sample": 2500},
        "selection": {"cv_folds": 2, "candidates": ["logistic_regression"]},
        "evaluation": {"learning_curve": False},
        "gates": [{"kind": "beats_baseline", "metric": "roc_auc", "margin": 0.1}],
        "model": {"name": "credit-default"},
    }
    ws = Workspace.at(tmp_path / "home")
    try:
        result = run_job(ws, parse_config(raw))
        s = result.summary
        assert result.exit_code == 0, s["outcome"]
        assert s["task"] == "classification" and s["metric"] == "roc_auc"
        assert "ID" in s["cleaning"]["dropped_columns"]  # id-like, found by the schema
        assert s["holdout"]["metrics"]["roc_auc"] > 0.65
        assert {"accuracy", "balanced_accuracy", "f1", "pr_auc", "log_loss", "brier"} <= set(
            s["holdout"]["metrics"]
        )
    finally:
        ws.close()


def test_small_job_and_cached_rerun_on_each_store(any_ws: Workspace, tmp_path: Path) -> None:
    data = tmp_path / "rows.csv"
    mixed_frame(160, task="regression").to_csv(data, index=False)
    config = parse_config(
        yaml.safe_load(job_yaml(tmp_path, data, selection={"candidates": ["ridge"]}).read_text()),
        source=tmp_path / "sluice.yaml",
    )
    first = run_job(any_ws, config, report_dir=tmp_path / "reports")
    second = run_job(any_ws, config, report_dir=tmp_path / "reports")
    assert first.exit_code == second.exit_code == 0, first.summary["outcome"]
    assert (
        first.summary["registered"]["uri"] == second.summary["registered"]["uri"] == "models:/m/1"
    )
    assert second.summary["timing"]["cache_hits"] == 10
    assert counts(any_ws)["model_versions"] == 1 and counts(any_ws)["pipeline_runs"] == 2


def test_moving_the_champion_invalidates_the_comparison_with_it(tmp_path: Path) -> None:
    """A cached comparison with an old champion must never decide a gate."""
    from sluice.pipelines import get_run as get_pipeline_run
    from sluice.registry import set_alias

    frame = mixed_frame(200, task="regression")
    gates = [{"kind": "no_regression", "metric": "rmse", "tolerance": 0.5}]
    configs = []
    for name, rows in (("a", frame), ("b", frame.iloc[:150])):
        folder = tmp_path / name
        folder.mkdir()
        rows.to_csv(folder / "rows.csv", index=False)
        text = job_yaml(
            folder,
            folder / "rows.csv",
            gates=gates,
            selection={"candidates": ["ridge"]},
            data={"name": f"rows-{name}"},
        ).read_text()
        configs.append(parse_config(yaml.safe_load(text), source=folder / "sluice.yaml"))
    ws = Workspace.at(tmp_path / "home")
    try:
        first = run_job(ws, configs[0])
        assert first.summary["registered"]["uri"] == "models:/m/1"
        other = run_job(ws, configs[1])
        assert other.summary["registered"]["uri"] == "models:/m/2"
        set_alias(ws, "m", 2, "champion")
        again = run_job(ws, configs[0])
        steps = {s.name: s.cached for s in get_pipeline_run(ws, again.run_id).steps}
        assert steps["select_model"] is True and steps["compare_champion"] is False
        verdict = next(g for g in again.summary["gates"] if g["kind"] == "no_regression")
        assert "No champion yet" not in verdict["reason"]
        assert "against the champion (version 2)'s" in verdict["reason"]
    finally:
        ws.close()


def test_a_new_version_is_validated_against_the_previous_one(tmp_path: Path) -> None:
    """A vanished column or a type change in new data stops the run before training."""
    folder = tmp_path / "job"
    folder.mkdir()
    data = folder / "rows.csv"
    frame = mixed_frame(200, task="regression")
    frame.to_csv(data, index=False)
    text = job_yaml(folder, data, selection={"candidates": ["ridge"]}).read_text()
    config = parse_config(yaml.safe_load(text), source=folder / "sluice.yaml")
    ws = Workspace.at(tmp_path / "home")
    try:
        assert run_job(ws, config).exit_code == 0
        changed = frame.drop(columns=["noise ß"])
        changed["température"] = changed["température"].map(lambda v: f"{v:.1f} °C")
        changed.to_csv(data, index=False)
        result = run_job(ws, config)
        s = result.summary
        assert result.exit_code == 1 and s["registered"] is None
        assert (
            "The run stopped at validate_data: Step 'validate_data' failed after 1 attempt(s) "
            in s["outcome"]["message"]
        )
        assert (
            "ValidationFailed: Expected data free of validation errors (against rows@1); got 2: "
            "noise ß: missing_column; température: type_change. Fix the data, or drop the "
            "columns in data.drop of sluice.yaml. The run is kept" in s["outcome"]["message"]
        )
        assert counts(ws)["model_versions"] == 1 and result.report_path.exists()
    finally:
        ws.close()
