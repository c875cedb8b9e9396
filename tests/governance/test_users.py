"""Users, roles and tokens on SQLite and PostgreSQL: tokens work until revoked, expired or
their user is disabled; no secret is ever stored or audited."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from sluice.errors import AlreadyExists, ConfigError, Forbidden, GovernanceError, Unauthorized
from sluice.governance import (
    PERMISSIONS,
    Role,
    add_user,
    allowed,
    authenticate,
    create_token,
    disable_user,
    list_tokens,
    list_users,
    require,
    revoke_token,
    set_role,
)
from sluice.governance.roles import matrix_markdown
from sluice.store import audit
from sluice.workspace import Workspace


def test_users_are_added_listed_and_checked(any_ws: Workspace) -> None:
    ada = add_user(any_ws, "ada", "scientist")
    add_user(any_ws, "bob@example.org", Role.APPROVER)
    assert (ada.name, ada.role, ada.disabled) == ("ada", Role.SCIENTIST, False)
    assert [(u.name, u.role.value) for u in list_users(any_ws)] == [
        ("ada", "scientist"),
        ("bob@example.org", "approver"),
    ]
    with pytest.raises(AlreadyExists, match="A user named 'ada' exists already"):
        add_user(any_ws, "ada", "viewer")
    with pytest.raises(ConfigError, match="Did you mean 'admin'"):
        add_user(any_ws, "carol", "admn")
    with pytest.raises(ConfigError, match="Expected a user name of letters"):
        add_user(any_ws, "../root", "viewer")
    assert set_role(any_ws, "ada", "engineer").role == Role.ENGINEER


def test_a_token_authenticates_until_revoked(any_ws: Workspace) -> None:
    add_user(any_ws, "ada", "scientist")
    token, secret = create_token(any_ws, "ada", label="laptop")
    assert secret.startswith("slc_") and len(secret) == 47
    assert token.prefix == secret[:12] and token.active
    assert authenticate(any_ws, secret).name == "ada"
    assert list_tokens(any_ws, "ada")[0].last_used_at is not None
    for wrong in ("slc_" + "x" * 43, secret[:-1], secret + "x"):
        with pytest.raises(Unauthorized, match="The API token is not valid"):
            authenticate(any_ws, wrong)
    with pytest.raises(Unauthorized, match="Expected an API token"):
        authenticate(any_ws, None)
    revoke_token(any_ws, token.id)
    with pytest.raises(Unauthorized, match="The API token is not valid"):
        authenticate(any_ws, secret)
    assert not list_tokens(any_ws)[0].active


def test_expired_tokens_and_disabled_users_are_refused(any_ws: Workspace) -> None:
    add_user(any_ws, "ada", "scientist")
    _, short = create_token(any_ws, "ada", expires_in=0.05)
    _, long = create_token(any_ws, "ada", expires_in=3600)
    time.sleep(0.1)
    with pytest.raises(Unauthorized):
        authenticate(any_ws, short)
    assert authenticate(any_ws, long).name == "ada"
    disable_user(any_ws, "ada")
    with pytest.raises(Unauthorized):
        authenticate(any_ws, long)
    with pytest.raises(GovernanceError, match="is disabled"):
        create_token(any_ws, "ada")
    add_user(any_ws, "bob", "viewer")
    with pytest.raises(ConfigError, match="positive lifetime"):
        create_token(any_ws, "bob", expires_in=-1)


def test_no_secret_is_stored_or_audited(any_ws: Workspace) -> None:
    add_user(any_ws, "ada", "admin")
    _, secret = create_token(any_ws, "ada")
    with any_ws.store.read() as conn:
        everything = " ".join(
            str(value)
            for table in ("tokens", "audit_events", "users")
            for row in conn.execute(sa.text(f"SELECT * FROM {table}"))
            for value in row
        )
        actions = [e.action for e in audit.events(conn, newest_first=False)]
    assert secret[:12] in everything, "the prefix is kept, for listings"
    assert secret not in everything and secret[12:] not in everything
    assert actions == ["user.added", "token.created"]


def test_the_permission_matrix() -> None:
    assert all(allowed(role, "read") for role in Role)
    assert not allowed("approver", "data.add") and allowed("approver", "approvals.review")
    assert not allowed("scientist", "approvals.review") and allowed("scientist", "models.register")
    assert not allowed("engineer", "users.admin") and allowed("admin", "users.admin")
    assert not any(allowed(role, "monitors.write") for role in ("viewer", "scientist", "approver"))
    with pytest.raises(Forbidden) as refused:
        require("vic", "viewer", "models.register")
    assert str(refused.value) == (
        "User 'vic' has the role viewer, which may not register model versions "
        "(models.register); roles that may: scientist, engineer, admin. "
        "Ask an admin to change the role."
    )
    table = matrix_markdown()
    assert table.count("\n") == len(PERMISSIONS) + 2
    assert (
        "| `approvals.review` | approve or reject requests (never one's own) |  |  |  | ✓ | ✓ |"
        in table
    )
