"""The approval flow from the command line: request, inbox, review, with actors set by
SLUICE_ACTOR (the local mode's way of saying who acts)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sluice.cli.main import app
from sluice.registry import resolve
from sluice.workspace import Workspace
from tests.governance.test_approvals import _versions


def _as(actor: str) -> CliRunner:
    return CliRunner(env={"COLUMNS": "200", "SLUICE_ACTOR": actor})


def test_request_reject_request_approve(sluice_home: Path) -> None:
    ws = Workspace.at(sluice_home)
    _versions(ws)
    ws.close()
    direct = _as("ada").invoke(app, ["models", "promote", "demand", "2", "--alias", "production"])
    assert direct.exit_code == 2
    assert "moves only through an approved request" in direct.stderr

    asked = _as("ada").invoke(app, ["models", "request", "demand", "2", "--reason", "better"])
    assert asked.exit_code == 0, asked.output
    assert asked.stdout.startswith("Request 1: models:/demand/2 as production, asked by ada;")
    assert "Nothing awaits your review" in _as("ada").invoke(app, ["inbox"]).stdout
    waiting = json.loads(_as("bob").invoke(app, ["inbox", "--json"]).stdout)
    assert [(r["id"], r["requester"], r["status"]) for r in waiting] == [(1, "ada", "open")]

    own = _as("ada").invoke(app, ["review", "1", "approve"])
    assert own.exit_code == 2 and "separation of duties" in own.stderr
    rejected = _as("bob").invoke(app, ["review", "1", "reject", "--comment", "not yet"])
    assert rejected.stdout.strip() == "Request 1 is rejected; demand@production did not move."

    _as("ada").invoke(app, ["models", "request", "demand", "2", "--reason", "now"])
    approved = _as("bob").invoke(app, ["review", "2", "approve", "--comment", "ok"])
    assert approved.stdout.strip() == "Approved: models:/demand/2 is now demand@production."
    ws = Workspace.at(sluice_home)
    try:
        assert resolve(ws, "models:/demand@production").version == 2
    finally:
        ws.close()
    every = json.loads(_as("carol").invoke(app, ["inbox", "--all", "--json"]).stdout)
    assert [(r["id"], r["status"]) for r in every] == [(2, "approved"), (1, "rejected")]
    bad = _as("bob").invoke(app, ["review", "2", "maybe"])
    assert bad.exit_code == 2 and "approve, reject or comment" in bad.stderr
