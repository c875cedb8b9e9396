"""`sluice users` and `sluice tokens` on a real workspace named by SLUICE_HOME."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sluice.cli.main import app
from sluice.governance import authenticate
from sluice.workspace import Workspace

runner = CliRunner(env={"COLUMNS": "200"})


def test_users_and_tokens_from_the_command_line(sluice_home: Path) -> None:
    empty = runner.invoke(app, ["users", "list"])
    assert empty.stdout.strip() == "No users yet: add one with `sluice users add NAME --role ROLE`."
    added = runner.invoke(app, ["users", "add", "ada", "--role", "scientist"])
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == (
        "Added ada (scientist). Give them a token with `sluice tokens create ada`."
    )
    made = runner.invoke(app, ["tokens", "create", "ada", "--label", "ci", "--json"])
    assert made.exit_code == 0, made.output
    token = json.loads(made.stdout)
    ws = Workspace.at(sluice_home)
    try:
        assert authenticate(ws, token["token"]).name == "ada"
    finally:
        ws.close()
    listed = runner.invoke(app, ["tokens", "list"])
    assert token["prefix"] + "…" in listed.stdout and token["token"] not in listed.stdout
    assert json.loads(runner.invoke(app, ["users", "list", "--json"]).stdout)[0]["role"] == (
        "scientist"
    )
    revoked = runner.invoke(app, ["tokens", "revoke", str(token["id"])])
    assert revoked.stdout.strip() == "Revoked token 1 of ada."
    assert runner.invoke(app, ["users", "role", "ada", "engineer"]).stdout.strip() == (
        "ada is now engineer."
    )
    assert "Disabled ada" in runner.invoke(app, ["users", "disable", "ada"]).stdout


def test_bad_input_exits_2_with_the_fix(sluice_home: Path) -> None:
    wrong_role = runner.invoke(app, ["users", "add", "ada", "--role", "wizard"])
    assert wrong_role.exit_code == 2
    assert "Expected a role, one of viewer, scientist, engineer, approver, admin" in (
        wrong_role.stderr
    )
    nobody = runner.invoke(app, ["tokens", "create", "ghost"])
    assert nobody.exit_code == 2 and "no user exists yet" in nobody.stderr
    runner.invoke(app, ["users", "add", "ada", "--role", "viewer"])
    bad_age = runner.invoke(app, ["tokens", "create", "ada", "--expires", "forever"])
    assert bad_age.exit_code == 2
    assert "Expected --expires as an age such as 30m, 24h, 7d or 2w" in bad_age.stderr
