"""The first start of a team server: an admin to begin with."""

from __future__ import annotations

from sluice.governance import add_user, create_token, list_users
from sluice.workspace import Workspace

ADMIN = "admin"


def ensure_admin(ws: Workspace) -> str | None:
    """On a store without users, create ``admin`` and return its first token (shown once);
    None when users exist already."""
    if list_users(ws):
        return None
    add_user(ws, ADMIN, "admin", actor="sluice-server")
    _, secret = create_token(ws, ADMIN, label="first start", actor="sluice-server")
    return secret
