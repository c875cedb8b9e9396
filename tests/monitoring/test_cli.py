"""`sluice monitor create/run/show/list` on a real workspace named by SLUICE_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sluice.cli.main import app
from sluice.workspace import Workspace
from tests.monitoring.bikes import july_2012, log_rows, register, trained_2011

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def home(sluice_home: Path, tmp_path: Path) -> Path:
    ws = Workspace.at(sluice_home)
    register(ws, trained_2011(), tmp_path)
    log_rows(ws, trained_2011().model, july_2012(), feedback=True)
    ws.close()
    return sluice_home


def test_create_run_show_list(home: Path) -> None:
    created = runner.invoke(
        app, ["monitor", "create", "july", "--model", "bike-demand@champion", "--window", "200rows"]
    )
    assert created.exit_code == 0, created.output
    assert created.stdout.strip() == (
        "Created monitor july: models:/bike-demand@champion, window 200rows, actions: log. "
        "Run it with `sluice monitor run july`."
    )

    ran = runner.invoke(app, ["monitor", "run", "july", "--json"])
    assert ran.exit_code == 1, "alerts were raised: exit 1 so that a scheduler notices"
    outcome = json.loads(ran.stdout)
    assert [r["rows"] for r in outcome["results"]] == [216, 216, 216]
    assert {r["status"] for r in outcome["results"]} == {"decay"}
    assert {a["kind"] for a in outcome["alerts"]} >= {"performance_decay", "prediction_drift"}
    report = Path(outcome["report"])
    assert report.parent == home / "reports" and report.read_text().startswith("<!doctype html>")

    again = runner.invoke(app, ["monitor", "run", "july"])
    assert again.exit_code == 0
    assert "No window closed since the last run: waiting for 200 rows." in again.stdout

    shown = runner.invoke(app, ["monitor", "show", "july"])
    assert shown.exit_code == 0, shown.output
    assert "Monitor july" in shown.stdout and "models:/bike-demand@champion" in shown.stdout
    assert "the served version's training data" in shown.stdout
    assert shown.stdout.count("decay") >= 3
    assert f"Report of the latest window: {report}" in shown.stdout

    as_json = json.loads(runner.invoke(app, ["monitor", "show", "july", "--json"]).stdout)
    assert as_json["monitor"]["window"] == "200rows"
    assert [r["id"] for r in as_json["results"]] == [3, 2, 1]
    assert as_json["report"] == str(report)

    listed = json.loads(runner.invoke(app, ["monitor", "list", "--json"]).stdout)
    assert [(m["name"], m["latest"]["status"]) for m in listed] == [("july", "decay")]
    table = runner.invoke(app, ["monitor", "list"])
    assert "july" in table.stdout and "decay" in table.stdout


def test_options_become_settings_and_actions(home: Path) -> None:
    args = ["monitor", "create", "hooked", "-m", "bike-demand", "-w", "6h", "--no-log",
            "--webhook", "https://hooks.example/sluice", "--webhook-secret-env", "HOOK_SECRET",
            "--retrain", "sluice.yaml", "--retrain-rows", "5000", "--promote",
            "--tolerance", "0.25", "--metric", "mae",
            "--alert-on", "performance_decay, data_drift", "--dataset-share", "0.3"]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    monitor = json.loads(runner.invoke(app, ["monitor", "show", "hooked", "--json"]).stdout)
    assert monitor["monitor"]["actions"] == [
        {"type": "webhook", "url": "https://hooks.example/sluice", "timeout": 5.0,
         "secret_env": "HOOK_SECRET"},
        {"type": "retrain", "config": "sluice.yaml", "window_rows": 5000, "promote": True},
    ]  # fmt: skip
    settings = monitor["monitor"]["settings"]
    assert settings["performance_tolerance"] == 0.25 and settings["metric"] == "mae"
    assert settings["alert_on"] == ["performance_decay", "data_drift"]
    assert settings["drift"]["dataset_share"] == 0.3
    assert monitor["results"] == [] and monitor["report"] is None


def test_errors_exit_2_with_the_message(home: Path) -> None:
    unknown = runner.invoke(app, ["monitor", "run", "jluy"])
    assert unknown.exit_code == 2
    assert "Expected the name of a monitor; got 'jluy' (no monitor exists yet)." in unknown.stderr
    bad = runner.invoke(app, ["monitor", "create", "x", "--model", "bike-demand", "-w", "soon"])
    assert bad.exit_code == 2 and "Expected a window like '30m'" in bad.stderr
    alias = runner.invoke(app, ["monitor", "create", "x", "--model", "bike-demand@prod"])
    assert alias.exit_code == 2 and "has no alias 'prod'" in alias.stderr
    promote = runner.invoke(app, ["monitor", "create", "x", "--model", "bike-demand", "--promote"])
    assert promote.exit_code == 2
    assert "Expected --retrain CONFIG with --retrain-rows or --promote" in promote.stderr
    empty = runner.invoke(app, ["monitor", "list"])
    assert "No monitors yet: create one with" in empty.stdout
