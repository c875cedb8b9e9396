"""The command line against a team server (SLUICE_TRACKING_URI, SLUICE_TOKEN): the same
commands, answered by the server with the token's user as the actor."""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sluice.cli.main import app
from sluice.templates.tabular.demo import bundled_data, demo_config, write_training_data
from sluice.workspace import Workspace
from tests.server.test_team_server import Team, _register, _settings, start_server, stop_server
from tests.templates.jobs import FAST_DEMO

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("team-server")]


def _store(tmp_path_factory: pytest.TempPathFactory, label: str) -> Path:
    """A store with two model versions, two versions of a dataset and a pipeline run."""
    home = tmp_path_factory.mktemp(label) / "home"
    _register(_settings(home, None))
    folder = tmp_path_factory.mktemp(f"{label}-data")
    for n in (30, 40):
        table = folder / f"demand-{n}.csv"
        table.write_text("x,y\n" + "".join(f"{i},{3 * i}\n" for i in range(n)))
        added = CliRunner(env={"SLUICE_HOME": str(home)}).invoke(
            app, ["data", "add", str(table), "--name", "demand", "--target", "y"]
        )
        assert added.exit_code == 0, added.output
    module = f"remote_flow_{label}"
    (folder / f"{module}.py").write_text(FLOW)
    sys.path.insert(0, str(folder))
    try:
        ws = Workspace.at(home)
        try:
            importlib.import_module(module).counting.run(ws)
        finally:
            ws.close()
    finally:
        sys.path.remove(str(folder))
    return home


def _serve(home: Path) -> Team:
    running = start_server(home, None)
    assert running.proc.stdout is not None
    running.proc.stdout.readline()
    running.tokens["admin"] = running.proc.stdout.readline().strip()
    with running.as_("admin") as admin:
        for name, role in (("ada", "scientist"), ("bob", "approver")):
            assert admin.post("/api/v1/users", json={"name": name, "role": role}).is_success
            made = admin.post("/api/v1/tokens", json={"user": name}).json()
            running.tokens[name] = made["token"]
    return running


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    running = _serve(_store(tmp_path_factory, "remote"))
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="module")
def parity(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    """A store of its own, with a project, a request and a monitor as well."""
    home = _store(tmp_path_factory, "parity")
    local = CliRunner(env={"SLUICE_HOME": str(home), "SLUICE_ACTOR": "ada"})
    for command in (
        ["project", "create", "demand", "--objective", "rentals", "--target", "r2 >= 0.9"],
        ["models", "request", "demand", "2", "--reason", "better", "--alias", "canary"],
        ["monitor", "create", "watch", "--model", "demand@champion", "--reference", "demand@1"],
    ):
        done = local.invoke(app, command)
        assert done.exit_code == 0, (command, done.output)
    running = _serve(home)
    try:
        yield running
    finally:
        stop_server(running)


FLOW = """
import logging

from sluice.pipelines import pipeline, step


@step
def numbers(n: int) -> list:
    logging.getLogger("remote").warning("making %d numbers", n)
    return list(range(n))


@step
def total(values: list) -> int:
    return sum(values)


@pipeline
def counting(n: int = 5):
    total(numbers(n))
"""


def _as(team: Team, user: str | None, token: str | None = None) -> CliRunner:
    env = {"COLUMNS": "200", "SLUICE_TRACKING_URI": team.url, "SLUICE_HOME": "/nonexistent"}
    env["SLUICE_TOKEN"] = token if token is not None else team.tokens[user] if user else ""
    return CliRunner(env=env)


def test_request_review_and_audit_through_the_server(team: Team) -> None:
    asked = _as(team, "ada").invoke(
        app, ["models", "request", "demand", "2", "--reason", "better on the holdout"]
    )
    assert asked.exit_code == 0, asked.output
    assert asked.stdout.startswith("Request 1: models:/demand/2 as production, asked by ada;")
    waiting = json.loads(_as(team, "bob").invoke(app, ["inbox", "--json"]).stdout)
    assert [(r["id"], r["requester"]) for r in waiting] == [(1, "ada")]
    refused = _as(team, "ada").invoke(app, ["review", "1", "approve"])
    assert refused.exit_code == 2
    assert "may not decide it (separation of duties)" in refused.stderr
    done = _as(team, "bob").invoke(app, ["review", "1", "approve", "--comment", "ok"])
    assert done.stdout.strip() == "Approved: models:/demand/2 is now demand@production."
    trail = json.loads(
        _as(team, "ada")
        .invoke(app, ["audit", "log", "--target", "models:/demand@production", "--json"])
        .stdout
    )
    assert [(e["action"], e["actor"]) for e in reversed(trail)] == [
        ("approval.requested", "ada"),
        ("approval.approved", "bob"),
        ("model.alias_moved", "bob"),
    ]
    verified = _as(team, "ada").invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0 and verified.stdout.startswith("The audit trail is intact")
    made = _as(team, "admin").invoke(
        app, ["project", "create", "demand", "--objective", "rentals", "--target", "r2 >= 0.9"]
    )
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("Created project demand (stage deployed, target r2 >= 0.9).")
    listed = json.loads(_as(team, "ada").invoke(app, ["project", "list", "--json"]).stdout)
    assert [(p["name"], p["stage"]) for p in listed] == [("demand", "deployed")]
    shown = _as(team, "ada").invoke(app, ["project", "show", "demand"]).stdout
    assert "  production models:/demand/2, r2 1 (meets the target)" in shown
    models = json.loads(_as(team, "ada").invoke(app, ["models", "list", "--json"]).stdout)
    assert models[0]["aliases"]["production"] == 2
    scientist_project = _as(team, "ada").invoke(
        app, ["project", "create", "other", "--objective", "x"]
    )
    assert scientist_project.exit_code == 2 and "(projects.write)" in scientist_project.stderr


def test_commands_that_need_the_store_itself_are_refused(team: Team) -> None:
    for command in (["runs", "resume", "abcd"], ["demo", "--home", "/nonexistent"]):
        result = _as(team, "ada").invoke(app, command)
        assert result.exit_code == 2, command
        assert "works on a local store only, and SLUICE_TRACKING_URI names a team" in (
            result.stderr
        ), command
    assert not Path("/nonexistent").exists(), "no local store was created"


# Read-only commands whose JSON must be the same from the server as from the local store.
SAME = [
    ["data", "list", "--json"],
    ["runs", "list", "--json"],
    ["models", "list", "--json"],
    ["models", "show", "demand/1", "--json"],
    ["models", "show", "demand@champion", "--json"],
    ["models", "show", "demand", "--json"],
    ["models", "card", "demand/2", "--format", "md"],
    ["data", "show", "demand", "--json"],
    ["data", "show", "demand@1"],
    ["data", "diff", "demand@1", "demand@2", "--json"],
    ["data", "validate", "demand@2", "--against", "demand@1", "--json"],
    ["runs", "show", "RUN", "--json"],
    ["runs", "show", "RUN"],
    ["runs", "logs", "RUN", "numbers"],
    ["monitor", "list", "--json"],
    ["monitor", "show", "watch"],
    ["project", "list", "--json"],
    ["project", "show", "demand"],
    ["inbox", "--all", "--json"],
    ["users", "list", "--json"],
    ["audit", "log", "--actor", "admin", "--json"],
    ["audit", "verify", "--json"],
]


def test_the_same_commands_give_the_same_results_locally_and_through_the_server(
    parity: Team,
) -> None:
    local = CliRunner(env={"COLUMNS": "200", "SLUICE_HOME": parity.env["SLUICE_HOME"]})
    _as(parity, "admin").invoke(app, ["project", "list"])  # settle the stages first
    run_id = json.loads(local.invoke(app, ["runs", "list", "--json"]).stdout)[0]["id"]
    for command in ([run_id if word == "RUN" else word for word in c] for c in SAME):
        here = local.invoke(app, command)
        there = _as(parity, "admin").invoke(app, command)
        assert here.exit_code == there.exit_code == 0, (command, here.output, there.output)
        assert here.stdout == there.stdout, command
        assert here.stdout.strip() not in ("", "[]"), (command, "compare something real")


def test_people_and_aliases_through_the_server(team: Team) -> None:
    admin = _as(team, "admin")
    added = admin.invoke(app, ["users", "add", "cy", "--role", "viewer"])
    assert added.stdout.startswith("Added cy (viewer).")
    assert admin.invoke(app, ["users", "role", "cy", "engineer"]).stdout == "cy is now engineer.\n"
    made = json.loads(admin.invoke(app, ["tokens", "create", "cy", "--json"]).stdout)
    assert made["token"].startswith("slc_") and made["user"] == "cy"
    cy = _as(team, None, token=made["token"])
    moved = cy.invoke(app, ["models", "promote", "demand", "1", "--alias", "staging"])
    assert moved.stdout == "models:/demand/1 is now demand@staging (new alias).\n", moved.output
    again = cy.invoke(app, ["models", "promote", "demand", "2", "--alias", "staging"])
    assert again.stdout == "models:/demand/2 is now demand@staging (was version 1).\n"
    production = cy.invoke(app, ["models", "promote", "demand", "1", "--alias", "production"])
    assert production.exit_code == 2
    assert "moves only through an approved request" in production.stderr
    mine = json.loads(cy.invoke(app, ["tokens", "list", "--json"]).stdout)
    assert [t["user"] for t in mine] == ["cy"], "a user sees only their own tokens"
    others = cy.invoke(app, ["tokens", "list", "--user", "admin"])
    assert others.exit_code == 2 and "(users.admin)" in others.stderr
    assert cy.invoke(app, ["users", "list"]).exit_code == 2
    revoked = admin.invoke(app, ["tokens", "revoke", str(made["id"])])
    assert revoked.stdout == f"Revoked token {made['id']} of cy.\n"
    gone = cy.invoke(app, ["models", "list"])
    assert gone.exit_code == 2 and "The API token is not valid" in gone.stderr
    disabled = admin.invoke(app, ["users", "disable", "cy"])
    assert disabled.stdout.startswith("Disabled cy")
    trail = json.loads(
        admin.invoke(app, ["audit", "log", "--target", "users:/cy", "--json"]).stdout
    )
    assert {e["actor"] for e in trail} == {"admin"}


def test_a_missing_or_bad_token_says_what_to_do(team: Team) -> None:
    missing = _as(team, None).invoke(app, ["inbox"])
    assert missing.exit_code == 2 and "SLUICE_TOKEN is not set" in missing.stderr
    bad = _as(team, None, token="slc_" + "x" * 43).invoke(app, ["inbox"])
    assert bad.exit_code == 2 and "The API token is not valid" in bad.stderr


def test_data_and_monitors_through_the_server(team: Team, tmp_path: Path) -> None:
    table = tmp_path / "demand.csv"
    table.write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(50)))
    ada = _as(team, "ada")
    sent = ada.invoke(app, ["data", "add", str(table), "--name", "demand", "--target", "y"])
    assert sent.exit_code == 0, sent.output
    assert sent.stdout.startswith("Added demand@3: 50 rows, 2 columns")
    again = json.loads(
        ada.invoke(app, ["data", "add", str(table), "--name", "demand", "--json"]).stdout
    )
    assert again["ref"] == "demand@3" and again["new"] is False, "the same bytes, the same version"
    shown = json.loads(ada.invoke(app, ["data", "show", "demand@3", "--json"]).stdout)
    assert shown["source_uri"] == str(table.absolute())
    assert shown["profile"]["columns"]["y"]["max"] == 98
    validated = ada.invoke(app, ["data", "validate", "demand@3", "--against", "demand@1"])
    assert validated.exit_code in (0, 1) and "demand@3" in validated.stdout

    refused = ada.invoke(app, ["monitor", "create", "watch", "--model", "demand@champion"])
    assert refused.exit_code == 2 and "(monitors.write)" in refused.stderr
    admin = _as(team, "admin")
    made = admin.invoke(
        app,
        ["monitor", "create", "watch", "--model", "demand@champion", "--reference", "demand@1"],
    )
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("Created monitor watch: models:/demand@champion, window 1d")
    ran = admin.invoke(app, ["monitor", "run", "watch", "--json"])
    assert ran.exit_code == 0, ran.output
    outcome = json.loads(ran.stdout)
    assert outcome["results"] == [] and outcome["alerts"] == [] and outcome["message"]
    shown = admin.invoke(app, ["monitor", "show", "watch"])
    assert "reference" in shown.stdout and "demand@1" in shown.stdout
    assert "No window evaluated yet: run `sluice monitor run watch`." in shown.stdout
    listed = json.loads(ada.invoke(app, ["monitor", "list", "--json"]).stdout)
    assert [(m["name"], m["latest"]) for m in listed] == [("watch", None)]


def test_sluice_run_and_ci_through_the_server(team: Team, tmp_path: Path) -> None:
    raw = demo_config(FAST_DEMO)
    raw["data"]["path"] = str(write_training_data(tmp_path))
    config = tmp_path / "sluice.yaml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    ada = _as(team, "ada")

    first = ada.invoke(app, ["run", str(config)])
    assert first.exit_code == 0, first.output
    assert "[1/" in first.stderr, "each step's progress streams from the server"
    assert "Registered models:/bike-demand/1" in first.stdout, first.stdout
    report = first.stdout.strip().splitlines()[-1]
    assert report.startswith(f"Report: {team.url}/api/v1/runs/")
    with team.as_("ada") as http:
        html = http.get(report.removeprefix("Report: ")).text
    assert html.lower().startswith("<!doctype html>") and "bike-demand" in html

    again = json.loads(ada.invoke(app, ["run", str(config), "--json"]).stdout)
    assert again["timing"]["cache_hits"] == again["timing"]["steps"], "the same data, cached"
    shown = json.loads(ada.invoke(app, ["runs", "show", again["run_id"], "--json"]).stdout)
    assert shown["status"] == "completed" and len(shown["steps"]) == again["timing"]["steps"]
    started = json.loads(
        ada.invoke(app, ["audit", "log", "--action", "pipeline.run_started", "--json"]).stdout
    )
    assert [e["actor"] for e in started[:2]] == ["ada", "ada"], "the two runs, newest first"

    summary = ada.invoke(app, ["ci", str(config)])
    assert summary.exit_code == 0, summary.output
    assert summary.stdout.startswith("## ✅ sluice ci: bike-demand passed every gate")
    earlier = ada.invoke(app, ["ci", str(config), "--run", again["run_id"]])
    assert earlier.exit_code == 2 and "works on a local store only" in earlier.stderr

    rows = pd.read_csv(bundled_data())
    rows[rows["yr"] == 1].head(300).to_csv(tmp_path / "2012.csv", index=False)
    scored = ada.invoke(
        app,
        ["predict", "models:/bike-demand@champion", "-i", str(tmp_path / "2012.csv"),
         "-o", str(tmp_path / "remote.csv"), "--json"],
    )  # fmt: skip
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["rows"] == 300
    here = CliRunner(env={"SLUICE_HOME": team.env["SLUICE_HOME"]}).invoke(
        app,
        ["predict", "models:/bike-demand/1", "-i", str(tmp_path / "2012.csv"),
         "-o", str(tmp_path / "local.csv")],
    )  # fmt: skip
    assert here.exit_code == 0, here.output
    remote, local = pd.read_csv(tmp_path / "remote.csv"), pd.read_csv(tmp_path / "local.csv")
    assert remote["prediction"].tolist() == local["prediction"].tolist()

    bundle = tmp_path / "bundle"
    packaged = ada.invoke(app, ["package", "models:/bike-demand@champion", "--out", str(bundle)])
    assert packaged.exit_code == 0, packaged.output
    assert packaged.stdout.startswith(f"Packaged models:/bike-demand/1 into {bundle}: ")
    meta = json.loads((bundle / "model.json").read_text())
    assert hashlib.sha256((bundle / "model.skops").read_bytes()).hexdigest() == meta["sha256"]
    assert {"Dockerfile", "requirements.txt", "serve.py"} <= {p.name for p in bundle.iterdir()}
    taken = ada.invoke(app, ["package", "models:/bike-demand/1", "--out", str(bundle)])
    assert taken.exit_code == 2 and "holds files" in taken.stderr

    viewer_token = json.loads(
        _as(team, "admin").invoke(app, ["users", "add", "vi", "--role", "viewer", "--json"]).stdout
    )
    assert viewer_token["role"] == "viewer"
    token = json.loads(_as(team, "admin").invoke(app, ["tokens", "create", "vi", "--json"]).stdout)
    refused = _as(team, None, token=token["token"]).invoke(app, ["run", str(config)])
    assert refused.exit_code == 2 and "(data.add)" in refused.stderr
