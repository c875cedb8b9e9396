"""The root command: version, help, and what an empty store says."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sluice.cli.main import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("sluice ")


def test_help_lists_every_noun() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for noun in (
        "init",
        "run",
        "demo",
        "serve",
        "predict",
        "data",
        "runs",
        "models",
        "monitor",
        "audit",
    ):
        assert f"  {noun} " in result.output


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("data", "No datasets yet: add one with `sluice data add PATH --name NAME`."),
        ("runs", "No pipeline runs yet: start one with `sluice run`."),
        ("models", "No registered models yet. Run `sluice run` to train and register one."),
    ],
)
def test_an_empty_store_says_what_to_do(sluice_home: Path, command: str, message: str) -> None:
    result = runner.invoke(app, [command, "list"])
    assert result.exit_code == 0
    assert " ".join(result.output.split()) == message
