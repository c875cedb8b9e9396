"""Users and their API tokens.

A token is ``slc_`` followed by 43 random URL-safe characters (256 bits). It is
shown once, when created; the store keeps its SHA-256 and its first characters
(to tell tokens apart in listings). A plain hash is enough here: a token is
random, not a password a person chose, so there is nothing to guess from the
hash. Every change (user added, role changed, user disabled, token created or
revoked) is on the audit trail; no secret ever is.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sluice.errors import (
    AlreadyExists,
    ConfigError,
    GovernanceError,
    TokenNotFound,
    Unauthorized,
    UserNotFound,
    did_you_mean,
)
from sluice.governance.roles import Role, parse_role
from sluice.store import audit
from sluice.store import tables as t
from sluice.workspace import Workspace

TOKEN_PREFIX = "slc_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_SHOWN = 12  # characters of a token kept for listings: "slc_" + 8


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    disabled: bool
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "disabled": self.disabled,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Token:
    """A token's record (never its secret)."""

    id: int
    user: str
    label: str
    prefix: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > time.time()
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"active": self.active}


def add_user(ws: Workspace, name: str, role: str | Role, *, actor: str | None = None) -> User:
    """A new, enabled user; AlreadyExists when the name is taken."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"Expected a user name of letters, digits, '.', '_', '@' or '-' (at most 100, "
            f"starting with a letter or digit); got {name!r}. For example: ada or ada@example.org."
        )
    chosen = parse_role(role) if isinstance(role, str) else role
    row = {"name": name, "role": chosen.value, "disabled": False, "created_at": time.time()}
    try:
        with ws.store.write() as conn:
            conn.execute(t.users.insert(), [row])
            audit.append(
                conn, "user.added", f"users:/{name}", after={"role": chosen.value}, actor=actor
            )
    except AlreadyExists:
        raise AlreadyExists(
            f"A user named {name!r} exists already. Pick another name, or change this one's "
            "role with `sluice users role`."
        ) from None
    return get_user(ws, name)


def get_user(ws: Workspace, name: str) -> User:
    with ws.store.read() as conn:
        row = conn.execute(sa.select(t.users).where(t.users.c.name == name)).first()
        if row is None:
            names = list(conn.execute(sa.select(t.users.c.name).order_by(t.users.c.name)).scalars())
    if row is None:
        known = f"users: {', '.join(names)}" if names else "no user exists yet"
        raise UserNotFound(
            f"Expected the name of a user; got {name!r} ({known}).{did_you_mean(name, names)} "
            "Add one with `sluice users add NAME --role ROLE`."
        )
    return _user(row)


def list_users(ws: Workspace) -> list[User]:
    with ws.store.read() as conn:
        return [_user(r) for r in conn.execute(sa.select(t.users).order_by(t.users.c.name))]


def set_role(ws: Workspace, name: str, role: str | Role, *, actor: str | None = None) -> User:
    chosen = parse_role(role) if isinstance(role, str) else role
    user = get_user(ws, name)
    if user.role == chosen:
        return user
    with ws.store.write() as conn:
        conn.execute(t.users.update().where(t.users.c.id == user.id).values(role=chosen.value))
        audit.append(
            conn,
            "user.role_changed",
            f"users:/{name}",
            before={"role": user.role.value},
            after={"role": chosen.value},
            actor=actor,
        )
    return get_user(ws, name)


def disable_user(ws: Workspace, name: str, *, actor: str | None = None) -> User:
    """The user can no longer authenticate (every token stops working); kept for the record."""
    user = get_user(ws, name)
    if user.disabled:
        return user
    with ws.store.write() as conn:
        conn.execute(t.users.update().where(t.users.c.id == user.id).values(disabled=True))
        audit.append(
            conn,
            "user.disabled",
            f"users:/{name}",
            before={"disabled": False},
            after={"disabled": True},
            actor=actor,
        )
    return get_user(ws, name)


def create_token(
    ws: Workspace,
    user_name: str,
    *,
    label: str = "",
    expires_in: float | None = None,
    actor: str | None = None,
) -> tuple[Token, str]:
    """A new token for the user: its record and the secret, which is not stored anywhere."""
    user = get_user(ws, user_name)
    if user.disabled:
        raise GovernanceError(
            f"User {user_name!r} is disabled: no token can be made for them. "
            "Ask an admin to add a new user instead."
        )
    if expires_in is not None and expires_in <= 0:
        raise ConfigError(f"Expected a positive lifetime for the token; got {expires_in} s.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = time.time()
    row = {
        "user_id": user.id,
        "label": label[:100],
        "prefix": secret[:_SHOWN],
        "hash": _digest(secret),
        "created_at": now,
        "expires_at": now + expires_in if expires_in is not None else None,
    }
    with ws.store.write() as conn:
        token_id = conn.execute(
            t.tokens.insert().values(**row).returning(t.tokens.c.id)
        ).scalar_one()
        audit.append(
            conn,
            "token.created",
            f"users:/{user_name}",
            after={"token": token_id, "label": row["label"], "prefix": row["prefix"]},
            actor=actor,
        )
    return _token_by_id(ws, int(token_id)), secret


def list_tokens(ws: Workspace, user_name: str | None = None) -> list[Token]:
    query = _token_query()
    if user_name is not None:
        query = query.where(t.users.c.id == get_user(ws, user_name).id)
    with ws.store.read() as conn:
        return [_token(r) for r in conn.execute(query.order_by(t.tokens.c.id))]


def revoke_token(ws: Workspace, token_id: int, *, actor: str | None = None) -> Token:
    token = _token_by_id(ws, token_id)
    if token.revoked_at is not None:
        return token
    with ws.store.write() as conn:
        conn.execute(
            t.tokens.update().where(t.tokens.c.id == token_id).values(revoked_at=time.time())
        )
        audit.append(
            conn,
            "token.revoked",
            f"users:/{token.user}",
            before={"token": token_id, "active": True},
            after={"token": token_id, "active": False},
            actor=actor,
        )
    return _token_by_id(ws, token_id)


def authenticate(ws: Workspace, secret: str | None) -> User:
    """The enabled user owning this active token; Unauthorized otherwise.

    The message never says which check failed for a token that exists: a guess
    learns nothing from the answer.
    """
    if not secret:
        raise Unauthorized(
            "Expected an API token in the Authorization header (Bearer slc_...); got none. "
            "Create one with `sluice tokens create USER`."
        )
    with ws.store.read() as conn:
        row = conn.execute(
            sa.select(
                t.tokens,
                t.users.c.name,
                t.users.c.role,
                t.users.c.disabled,
                t.users.c.created_at.label("user_created_at"),
            )
            .select_from(t.tokens.join(t.users))
            .where(t.tokens.c.hash == _digest(secret))
        ).first()
    now = time.time()
    if (
        row is None
        or row.revoked_at is not None
        or (row.expires_at is not None and row.expires_at <= now)
        or row.disabled
    ):
        raise Unauthorized(
            "The API token is not valid: unknown, revoked, expired, or its user is disabled. "
            "Ask an admin for a new one."
        )
    if row.last_used_at is None or now - row.last_used_at > 60:  # at most a write a minute
        with ws.store.write() as conn:
            conn.execute(t.tokens.update().where(t.tokens.c.id == row.id).values(last_used_at=now))
    return User(int(row.user_id), row.name, Role(row.role), bool(row.disabled), row.user_created_at)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _token_query() -> Any:
    return sa.select(t.tokens, t.users.c.name.label("user_name")).select_from(
        t.tokens.join(t.users)
    )


def _token_by_id(ws: Workspace, token_id: int) -> Token:
    with ws.store.read() as conn:
        row = conn.execute(_token_query().where(t.tokens.c.id == token_id)).first()
    if row is None:
        raise TokenNotFound(
            f"Expected the id of a token; got {token_id}. `sluice tokens list` shows them."
        )
    return _token(row)


def _token(r: Any) -> Token:
    return Token(
        id=int(r.id),
        user=r.user_name,
        label=r.label,
        prefix=r.prefix,
        created_at=r.created_at,
        expires_at=r.expires_at,
        revoked_at=r.revoked_at,
        last_used_at=r.last_used_at,
    )


def _user(r: Any) -> User:
    return User(int(r.id), r.name, Role(r.role), bool(r.disabled), float(r.created_at))
