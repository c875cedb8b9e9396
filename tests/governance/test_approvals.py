"""Approvals on SQLite and PostgreSQL: separation of duties, rejection, approval that
moves the alias in the same transaction, superseded and gate-failing requests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from sluice.errors import (
    AliasNotFound,
    AlreadyExists,
    ConfigError,
    Forbidden,
    GovernanceError,
    UserNotFound,
    VersionNotFound,
)
from sluice.gates import GateResult, save_gate_results
from sluice.governance import add_user, inbox, list_requests, request_alias, review, verify_audit
from sluice.models.persistence import dumps
from sluice.models.signature import infer_signature
from sluice.registry import register_version, resolve
from sluice.store import audit
from sluice.workspace import Workspace


def _versions(ws: Workspace, n: int = 2) -> None:
    frame = pd.DataFrame({"x": np.arange(30.0), "y": np.arange(30.0) * 3})
    model = LinearRegression().fit(frame[["x"]], frame["y"])
    for _ in range(n):
        register_version(
            ws,
            "demand",
            model_bytes=dumps(model),
            signature=infer_signature(frame[["x"]], model, task="regression"),
            params={},
            metrics={},
        )


def _production(ws: Workspace) -> int | None:
    try:
        return resolve(ws, "models:/demand@production").version
    except AliasNotFound:
        return None


def test_rejected_then_approved_by_someone_else(any_ws: Workspace) -> None:
    _versions(any_ws)
    first = request_alias(any_ws, "demand", 2, "production", "beats v1 by 12%", requester="ada")
    assert (first.status.value, first.requester, first.version) == ("open", "ada", 2)
    assert [r.id for r in inbox(any_ws, "bob")] == [first.id] and inbox(any_ws, "ada") == []
    with pytest.raises(Forbidden, match="separation of duties"):
        review(any_ws, first.id, "approve", reviewer="ada")
    rejected = review(any_ws, first.id, "reject", "holdout too old", reviewer="bob")
    assert rejected.status.value == "rejected" and _production(any_ws) is None
    with pytest.raises(GovernanceError, match=f"Request {first.id} is rejected"):
        review(any_ws, first.id, "approve", reviewer="carol")

    second = request_alias(any_ws, "demand", 2, "production", "re-evaluated", requester="ada")
    review(any_ws, second.id, "comment", "looks fine", reviewer="ada")  # comments are open to all
    approved = review(any_ws, second.id, "approve", "ok", reviewer="bob")
    assert approved.status.value == "approved" and approved.approvals == 1
    assert [(r.reviewer, r.decision.value) for r in approved.reviews] == [
        ("ada", "comment"),
        ("bob", "approve"),
    ]
    assert _production(any_ws) == 2
    with any_ws.store.read() as conn:
        trail = [
            (e.action, e.actor)
            for e in audit.events(conn, target="models:/demand@production", newest_first=False)
        ]
    assert trail == [
        ("approval.requested", "ada"),
        ("approval.rejected", "bob"),
        ("approval.requested", "ada"),
        ("approval.commented", "ada"),
        ("approval.approved", "bob"),
        ("model.alias_moved", "bob"),
    ]
    assert verify_audit(any_ws).ok


def test_a_newer_request_supersedes_and_duplicates_are_refused(any_ws: Workspace) -> None:
    _versions(any_ws, 3)
    old = request_alias(any_ws, "demand", 2, "production", "first try", requester="ada")
    with pytest.raises(AlreadyExists, match=f"Request {old.id} already asks"):
        request_alias(any_ws, "demand", 2, "production", "again", requester="ada")
    new = request_alias(any_ws, "demand", 3, "production", "better", requester="ada")
    closed = next(r for r in list_requests(any_ws) if r.id == old.id)
    assert closed.status.value == "closed"
    assert closed.closed_reason == f"superseded by request {new.id} for version 3"
    assert [r.id for r in list_requests(any_ws, "open")] == [new.id]


def test_failed_gates_block_the_request_and_close_it_at_review(any_ws: Workspace) -> None:
    _versions(any_ws)
    v2 = resolve(any_ws, "models:/demand/2")
    open_request = request_alias(any_ws, "demand", 2, "production", "fast", requester="ada")
    failed = GateResult("r2 >= 0.9", "metric", False, 0.5, 0.9, "r2 is 0.5")
    save_gate_results(any_ws, [failed], pipeline_run_id=None, model_version_id=v2.id)
    with pytest.raises(GovernanceError, match=r"failed the gates r2 >= 0.9"):
        request_alias(any_ws, "demand", 2, "production", "again", requester="ada")
    closed = review(any_ws, open_request.id, "approve", reviewer="bob")
    assert closed.status.value == "closed" and "failed the gates r2 >= 0.9" in str(
        closed.closed_reason
    )
    assert _production(any_ws) is None


def test_where_the_store_has_users_only_reviewers_decide(any_ws: Workspace) -> None:
    _versions(any_ws)
    add_user(any_ws, "ada", "scientist")
    add_user(any_ws, "sam", "scientist")
    add_user(any_ws, "bob", "approver")
    request = request_alias(any_ws, "demand", 1, "production", "v1", requester="ada")
    with pytest.raises(Forbidden, match="has the role scientist, which may not approve"):
        review(any_ws, request.id, "approve", reviewer="sam")
    with pytest.raises(UserNotFound):
        review(any_ws, request.id, "approve", reviewer="stranger")
    assert review(any_ws, request.id, "approve", reviewer="bob").status.value == "approved"


def test_bad_input_is_named(any_ws: Workspace) -> None:
    _versions(any_ws, 1)
    with pytest.raises(ConfigError, match="Expected a reason"):
        request_alias(any_ws, "demand", 1, "production", "  ", requester="ada")
    with pytest.raises(VersionNotFound):
        request_alias(any_ws, "demand", 7, "production", "why not", requester="ada")
    request = request_alias(any_ws, "demand", 1, "production", "go", requester="ada")
    with pytest.raises(ConfigError, match="approve, reject or comment; got 'maybe'"):
        review(any_ws, request.id, "maybe", reviewer="bob")
    with pytest.raises(ConfigError, match="Expected a status"):
        list_requests(any_ws, "pending")


def test_the_model_card_tells_who_registered_and_approved(
    any_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from sluice.governance import model_card_inputs
    from sluice.reports.model_card import render_model_card

    monkeypatch.setenv("SLUICE_ACTOR", "ada")
    _versions(any_ws)
    first = request_alias(any_ws, "demand", 2, "production", "better on March")
    review(any_ws, first.id, "reject", "show April too", reviewer="bob")
    second = request_alias(any_ws, "demand", 2, "production", "April attached")
    review(any_ws, second.id, "approve", "ok", reviewer="bob")
    mv = resolve(any_ws, "models:/demand/2")
    inputs = model_card_inputs(any_ws, mv)
    card = render_model_card(mv, inputs, fmt="md")
    assert "Registered by ada." in card
    assert (
        f'- Request {first.id} for **production**, asked by ada: "better on March" → **rejected**.'
        in card
    )
    assert '  - bob: reject, "show April too" (' in card
    assert f"- Request {second.id} for **production**, asked by ada" in card
    assert "No monitor watches this model." in card
    data = json.loads(render_model_card(mv, inputs, fmt="json"))
    assert [(a["status"], [r["decision"] for r in a["reviews"]]) for a in data["approvals"]] == [
        ("rejected", ["reject"]),
        ("approved", ["approve"]),
    ]
    assert data["mv"]["version"] == 2 and data["registered_by"] == "ada"
    html = render_model_card(mv, inputs, fmt="html")
    assert "<h2>Accountability</h2>" in html and "show April too" in html
    assert "No project owns this model: `sluice project create NAME --model demand" in card

    from sluice.governance import create_project

    create_project(
        any_ws, "rentals", objective="daily rentals", target="rmse <= 60", owner="carol",
        model="demand",
    )  # fmt: skip
    owned = model_card_inputs(any_ws, mv)
    card = render_model_card(mv, owned, fmt="md")
    assert "Owned by carol, in project **rentals** (daily rentals; target rmse <= 60)." in card
    assert json.loads(render_model_card(mv, owned, fmt="json"))["project"]["owner"] == "carol"
    assert "Owned by carol, in project <strong>rentals</strong>" in render_model_card(
        mv, owned, fmt="html"
    )
