"""`sluice project create/show/list/retire` on a real workspace named by SLUICE_HOME."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sluice.cli.main import app
from sluice.workspace import Workspace
from tests.governance.test_approvals import _versions

runner = CliRunner(env={"COLUMNS": "200"})


def test_create_show_list_retire(sluice_home: Path) -> None:
    ws = Workspace.at(sluice_home)
    _versions(ws)
    ws.close()
    made = runner.invoke(
        app,
        ["project", "create", "demand", "--objective", "Rentals a day ahead",
         "--target", "rmse <= 60", "--owner", "ada"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert made.stdout.strip() == (
        "Created project demand (stage development, target rmse <= 60). "
        "`sluice project show demand` tells where it stands."
    )
    shown = runner.invoke(app, ["project", "show", "demand"]).stdout
    assert "  stage      development" in shown
    assert "  production nothing in production" in shown
    assert "  policy     1 approval(s) from approver, admin; gates must have passed" in shown
    listed = json.loads(runner.invoke(app, ["project", "list", "--json"]).stdout)
    assert [(p["name"], p["stage"], p["target"]) for p in listed] == [
        ("demand", "development", "rmse <= 60")
    ]
    assert runner.invoke(app, ["project", "retire", "demand"]).stdout.strip() == (
        "Project demand is retired."
    )
    bad = runner.invoke(app, ["project", "create", "x", "--objective", "y", "--target", "low"])
    assert bad.exit_code == 2 and "Expected a target such as 'rmse <= 60'" in bad.stderr
