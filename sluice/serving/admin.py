"""Who may reload a model server: the store's users, by token, once it has any.

``POST /admin/reload`` changes what the server answers with, so it is
authenticated like the team server: a bearer token of a user whose role has
``serving.admin`` (engineer, admin). A store without users (the embedded local
mode) has no tokens to check; there the endpoint answers this machine only
(loopback), so ``--host 0.0.0.0`` does not open it to the network. Every reload
is on the audit trail with its actor.
"""

from __future__ import annotations

import ipaddress

from sluice.errors import Forbidden, Unauthorized
from sluice.governance import authenticate, list_users, require
from sluice.store import audit
from sluice.workspace import Workspace

PERMISSION = "serving.admin"


def authorize_reload(ws: Workspace, client_host: str | None, authorization: str | None) -> str:
    """The name of who asks, once allowed; Unauthorized or Forbidden otherwise."""
    if not list_users(ws):
        if _loopback(client_host):
            return audit.current_actor()
        raise Forbidden(
            f"POST /admin/reload from {client_host}: this store has no users, so the endpoint "
            "answers only this machine (loopback). Add users (`sluice users add`) and send a "
            f"token whose role has {PERMISSION}, or reload from the server's machine."
        )
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized(
            "POST /admin/reload needs a token: send 'Authorization: Bearer <token>' for a user "
            f"whose role has {PERMISSION} (engineer or admin)."
        )
    user = authenticate(ws, secret.strip())
    require(user.name, user.role, PERMISSION)
    return user.name


def record_reload(
    ws: Workspace, actor: str, target: str, previous: int | None, current: int
) -> None:
    """Put the reload on the audit trail (a reload that changed nothing too)."""
    with ws.store.write() as conn:
        audit.append(
            conn,
            "serving.reloaded",
            target,
            before={"version": previous},
            after={"version": current},
            actor=actor,
        )


def _loopback(host: str | None) -> bool:
    if host in ("localhost", "testclient"):
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
