"""Projects on SQLite and PostgreSQL: the stage follows what exists, the target is judged,
and the project's approval policy governs its model's production requests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sluice.data import add_version
from sluice.errors import AlreadyExists, ConfigError, Forbidden, GovernanceError, NotFound
from sluice.governance import (
    add_user,
    create_project,
    get_project,
    list_projects,
    request_alias,
    retire_project,
    review,
    standing,
)
from sluice.governance.projects import parse_target
from sluice.monitoring import create_monitor
from sluice.store import audit
from sluice.workspace import Workspace
from tests.governance.test_approvals import _versions


def test_the_stage_follows_what_exists(any_ws: Workspace, tmp_path: Path) -> None:
    made = create_project(
        any_ws, "demand", objective="Rentals a day ahead", target="rmse <= 60", owner="ada"
    )
    assert (made.stage.value, str(made.target), made.metric) == ("framing", "rmse <= 60", "rmse")
    csv = tmp_path / "demand.csv"
    pd.DataFrame({"x": np.arange(30.0), "y": np.arange(30.0) * 3}).to_csv(csv, index=False)
    add_version(any_ws, csv, "demand")
    assert standing(any_ws, "demand").project.stage.value == "data"
    _versions(any_ws)
    assert get_project(any_ws, "demand").stage.value == "data", "recorded when looked at"
    assert standing(any_ws, "demand").project.stage.value == "development"
    request = request_alias(any_ws, "demand", 2, "production", "go", requester="ada")
    review(any_ws, request.id, "approve", reviewer="bob")
    now = standing(any_ws, "demand")
    assert now.project.stage.value == "deployed"
    assert now.production is not None and now.production["uri"] == "models:/demand/2"
    create_monitor(any_ws, "watch", model="demand@production", reference="demand@1")
    assert [p.stage.value for p in list_projects(any_ws)] == ["monitoring"]
    assert standing(any_ws, "demand").monitors == [
        {
            "name": "watch",
            "follows": "models:/demand@production",
            "status": "not run yet",
            "alerts_in_latest_window": [],
        }
    ]
    assert retire_project(any_ws, "demand").stage.value == "retired"
    assert standing(any_ws, "demand").project.stage.value == "retired", "retired stays retired"
    with any_ws.store.read() as conn:
        moves = [
            (e.before["stage"], e.after["stage"])
            for e in audit.events(conn, target="projects:/demand", newest_first=False)
            if e.action == "project.stage_changed"
        ]
    assert moves == [
        ("framing", "data"),
        ("data", "development"),
        ("development", "deployed"),
        ("deployed", "monitoring"),
        ("monitoring", "retired"),
    ]


def test_the_policy_governs_production_requests(any_ws: Workspace) -> None:
    _versions(any_ws)
    for name, role in (
        ("ada", "scientist"),
        ("bob", "approver"),
        ("cat", "approver"),
        ("root", "admin"),
    ):
        add_user(any_ws, name, role)
    create_project(any_ws, "demand", objective="x", approvals=2, reviewer_roles=("approver",))
    request = request_alias(any_ws, "demand", 1, "production", "two needed", requester="ada")
    assert request.approvals_needed == 2
    with pytest.raises(Forbidden, match="lets only approver decide its requests; root is admin"):
        review(any_ws, request.id, "approve", reviewer="root")
    assert review(any_ws, request.id, "approve", reviewer="bob").status.value == "open"
    with pytest.raises(GovernanceError, match="bob approved request 1 already; it needs 1 more"):
        review(any_ws, request.id, "approve", reviewer="bob")
    assert review(any_ws, request.id, "approve", reviewer="cat").status.value == "approved"


def test_bad_input_is_named(any_ws: Workspace) -> None:
    with pytest.raises(ConfigError, match=r"Expected a target such as 'rmse <= 60'"):
        create_project(any_ws, "p", objective="x", target="rmse is small")
    with pytest.raises(ConfigError, match="is about rmse, but --metric says 'r2'"):
        create_project(any_ws, "p", objective="x", target="rmse <= 60", metric="r2")
    with pytest.raises(ConfigError, match="Expected an objective"):
        create_project(any_ws, "p", objective=" ")
    with pytest.raises(ConfigError, match="Did you mean 'approver'"):
        create_project(any_ws, "p", objective="x", reviewer_roles=("aprover",))
    create_project(any_ws, "demand", objective="x")
    with pytest.raises(AlreadyExists, match="A project named 'demand' exists already"):
        create_project(any_ws, "demand", objective="y")
    with pytest.raises(NotFound, match=r"\(projects: demand\)\. Did you mean 'demand'\?"):
        get_project(any_ws, "demnad")
    assert parse_target("r2 >= 0.8").met_by(0.85) and not parse_target("rmse < 60").met_by(60)


def test_requests_and_decisions_are_announced_signed(
    any_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real HTTP receiver on loopback gets each event, signed with the project's secret."""
    import json

    from sluice.monitoring import verify
    from tests.monitoring.test_alerts import Receiver

    monkeypatch.setenv("APPROVALS_SECRET", "s3cret")
    receiver = Receiver()
    try:
        _versions(any_ws)
        create_project(
            any_ws,
            "demand",
            objective="x",
            webhook=receiver.url,
            webhook_secret_env="APPROVALS_SECRET",
        )
        first = request_alias(any_ws, "demand", 1, "production", "go", requester="ada")
        review(any_ws, first.id, "reject", "no", reviewer="bob")
        second = request_alias(any_ws, "demand", 2, "production", "again", requester="ada")
        review(any_ws, second.id, "comment", "looking", reviewer="bob")  # not announced
        review(any_ws, second.id, "approve", "ok", reviewer="bob")
    finally:
        receiver.close()
    events = []
    for headers, body in receiver.requests:
        assert verify(body, "s3cret", headers["X-Sluice-Signature"])
        data = json.loads(body)
        events.append((data["event"], data["actor"], data["request"]["id"]))
    assert events == [
        ("approval.requested", "ada", first.id),
        ("approval.rejected", "bob", first.id),
        ("approval.requested", "ada", second.id),
        ("approval.approved", "bob", second.id),
    ]
    with any_ws.store.read() as conn:
        delivered = [
            e.after for e in audit.events(conn, action="approval.announced", newest_first=False)
        ]
    assert [(d["event"], d["ok"], d["status"]) for d in delivered] == [
        (event, True, 200) for event, _, _ in events
    ]
    with pytest.raises(ConfigError, match="Expected the webhook as an http"):
        create_project(any_ws, "other", objective="x", webhook="ftp://example.org")
