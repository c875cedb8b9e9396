"""`sluice models list/show/promote/card`, with --json, on a real workspace from SLUICE_HOME."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sluice.cli.models import app
from sluice.gates import GateResult, save_gate_results
from sluice.registry import git_state, register_version
from sluice.workspace import current

runner = CliRunner(env={"COLUMNS": "200"})


def register(name: str = "bike-demand") -> int:
    mv = register_version(
        current(),
        name,
        model_bytes=uuid.uuid4().bytes,
        signature={"inputs": [{"name": "hr", "kind": "numeric", "dtype": "int64"}]},
        params={"max_iter": 60, "learning_rate": 0.1},
        metrics={"rmse": 59.84, "r2": 0.84},
        seed=3,
        duration=1.25,
    )
    return mv.id


@pytest.fixture
def models(sluice_home: Path) -> None:
    first = register()
    register()
    register("churn")
    verdict = GateResult(
        "rmse <= 120", "metric", True, 59.84, 120.0, "rmse is 59.84, at most 120 as required."
    )
    save_gate_results(current(), [verdict], pipeline_run_id=None, model_version_id=first)


def test_list_when_empty(sluice_home: Path) -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    assert "No registered models yet. Run `sluice run` to train and register one." in result.stdout
    assert json.loads(runner.invoke(app, ["list", "--json"]).stdout) == []


def test_list(models: None) -> None:
    data = json.loads(runner.invoke(app, ["list", "--json"]).stdout)
    assert [(m["name"], m["n_versions"], m["latest_version"], m["aliases"]) for m in data] == [
        ("bike-demand", 2, 2, {"challenger": 2, "champion": 1}),
        ("churn", 1, 1, {"challenger": 1, "champion": 1}),
    ]
    table = runner.invoke(app, ["list"])
    assert table.exit_code == 0
    assert "Registered models" in table.stdout
    assert "challenger=2, champion=1" in table.stdout


def test_show_json_has_everything(models: None) -> None:
    result = runner.invoke(app, ["show", "bike-demand@champion", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["uri"], data["aliases"], data["seed"], data["duration"]) == (
        "models:/bike-demand/1", ["champion"], 3, 1.25,
    )  # fmt: skip
    assert data["params"] == {"max_iter": 60, "learning_rate": 0.1}
    assert data["metrics"] == {"rmse": 59.84, "r2": 0.84}
    assert data["gates"] == [
        {
            "gate": "rmse <= 120",
            "kind": "metric",
            "passed": True,
            "observed": 59.84,
            "threshold": 120.0,
            "reason": "rmse is 59.84, at most 120 as required.",
        }
    ]
    assert data["training_data"] is None
    assert "scikit-learn" in data["environment"]["packages"]
    state = git_state()
    assert data["git_commit"] == (state.commit if state else None)
    via_uri = json.loads(runner.invoke(app, ["show", "models:/bike-demand/1", "--json"]).stdout)
    assert via_uri == data


def test_show_table(models: None) -> None:
    result = runner.invoke(app, ["show", "bike-demand/1"])
    assert result.exit_code == 0, result.output
    for text in ("bike-demand version 1", "models:/bike-demand/1", "Metrics", "59.84", "Params",
                 "learning_rate", "Gates", "at most 120 as required", "scikit-learn"):  # fmt: skip
        assert text in result.stdout, text


def test_show_errors_exit_2_with_the_message(models: None) -> None:
    result = runner.invoke(app, ["show", "bike-demnd"])
    assert result.exit_code == 2
    assert (
        "got 'bike-demnd' (registered models: bike-demand, churn). Did you mean 'bike-demand'?"
        in " ".join(result.stderr.split())
    )
    bad = runner.invoke(app, ["show", "bike-demand/latest"])
    assert bad.exit_code == 2
    assert "Expected a version number (1, 2, ...) after '/' in 'bike-demand/latest'" in " ".join(
        bad.stderr.split()
    )


def test_promote_moves_the_alias(models: None) -> None:
    result = runner.invoke(app, ["promote", "bike-demand", "2", "--alias", "champion"])
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.strip()
        == "models:/bike-demand/2 is now bike-demand@champion (was version 1)."
    )
    data = json.loads(runner.invoke(app, ["show", "bike-demand@champion", "--json"]).stdout)
    assert (data["version"], data["aliases"]) == (2, ["challenger", "champion"])
    fresh = runner.invoke(app, ["promote", "bike-demand", "1", "--alias", "eu-prod"])
    assert fresh.stdout.strip() == "models:/bike-demand/1 is now bike-demand@eu-prod (new alias)."


def test_promote_errors(models: None) -> None:
    missing = runner.invoke(app, ["promote", "bike-demand", "9", "--alias", "champion"])
    assert missing.exit_code == 2
    assert "Model 'bike-demand' has no version 9; its versions are 1 to 2." in " ".join(
        missing.stderr.split()
    )
    bad = runner.invoke(app, ["promote", "bike-demand", "1", "--alias", "Prod!"])
    assert bad.exit_code == 2
    assert "An alias must start with a lowercase letter" in " ".join(bad.stderr.split())


def test_card_to_stdout_and_to_a_file(models: None, tmp_path: Path) -> None:
    md = runner.invoke(app, ["card", "bike-demand@champion"])
    assert md.exit_code == 0, md.output
    assert md.stdout.startswith("# Model card: bike-demand version 1\n")
    assert "| rmse <= 120 | passed | 59.84 | 120 |" in md.stdout
    out = tmp_path / "card.html"
    html = runner.invoke(app, ["card", "bike-demand/2", "--format", "html", "--out", str(out)])
    assert html.exit_code == 0, html.output
    assert out.read_text().startswith("<!doctype html>")
    assert "<h1>Model card: bike-demand version 2</h1>" in out.read_text()
    wrong = runner.invoke(app, ["card", "bike-demand", "--format", "pdf"])
    assert wrong.exit_code == 2
    assert "Expected a card format among md, html, json; got 'pdf'." in wrong.stderr


def test_card_to_a_path_that_cannot_be_written(models: None, tmp_path: Path) -> None:
    result = runner.invoke(app, ["card", "bike-demand", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert " ".join(result.stderr.split()) == (
        f"error: Expected --out to name a file that can be written; got '{tmp_path}' "
        "(Is a directory). Choose another path."
    )


def test_values_with_brackets_are_shown_as_they_are(sluice_home: Path) -> None:
    """Table cells are data: '[/x]' must not be read as Rich markup (it crashed the table)."""
    register_version(
        current(),
        "prices",
        model_bytes=b"model",
        signature={"inputs": [{"name": "price [usd]", "kind": "numeric"}]},
        params={"unit": "price [usd]", "path": "[/tmp/x]"},
        metrics={},
    )
    result = runner.invoke(app, ["show", "prices"])
    assert result.exit_code == 0, result.output
    assert "price [usd]" in result.stdout and "[/tmp/x]" in result.stdout
