"""Roles and what each may do: the permission matrix the team server enforces.

Roles are not a ladder: an approver reviews requests but does not train, an
engineer deploys and monitors but does not approve. Everyone may read, and
manage their own tokens. Moving the ``production`` alias is nobody's permission:
it happens only when an approval request is granted.
"""

from __future__ import annotations

from enum import StrEnum

from sluice.errors import ConfigError, Forbidden, did_you_mean


class Role(StrEnum):
    VIEWER = "viewer"
    SCIENTIST = "scientist"
    ENGINEER = "engineer"
    APPROVER = "approver"
    ADMIN = "admin"


ALL = frozenset(Role)
_BUILDERS = frozenset({Role.SCIENTIST, Role.ENGINEER, Role.ADMIN})

PERMISSIONS: dict[str, tuple[frozenset[Role], str]] = {
    "read": (ALL, "list and show data, runs, models, monitors, projects, the audit trail"),
    "tokens.own": (ALL, "create and revoke one's own tokens"),
    "data.add": (_BUILDERS, "add dataset versions"),
    "runs.write": (_BUILDERS, "start pipeline runs, log params and metrics"),
    "models.register": (_BUILDERS, "register model versions"),
    "models.alias": (_BUILDERS, "move aliases other than production"),
    "approvals.request": (_BUILDERS, "ask for an alias to move to production"),
    "approvals.review": (
        frozenset({Role.APPROVER, Role.ADMIN}),
        "approve or reject requests (never one's own)",
    ),
    "monitors.write": (frozenset({Role.ENGINEER, Role.ADMIN}), "create and run monitors"),
    "serving.admin": (frozenset({Role.ENGINEER, Role.ADMIN}), "reload a model server"),
    "projects.write": (frozenset({Role.ENGINEER, Role.ADMIN}), "create projects, set policies"),
    "users.admin": (frozenset({Role.ADMIN}), "add and disable users, tokens of others"),
}


def parse_role(text: str) -> Role:
    """A role by name; ConfigError listing the roles otherwise."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        names = [r.value for r in Role]
        raise ConfigError(
            f"Expected a role, one of {', '.join(names)}; got {text!r}.{did_you_mean(text, names)}"
        ) from None


def allowed(role: Role | str, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")  # a bug, not user input
    return Role(role) in PERMISSIONS[permission][0]


def require(user_name: str, role: Role | str, permission: str) -> None:
    """Forbidden naming the user, the role, what was asked and who may, unless allowed."""
    if allowed(role, permission):
        return
    roles, what = PERMISSIONS[permission]
    who = ", ".join(r.value for r in Role if r in roles)
    raise Forbidden(
        f"User {user_name!r} has the role {Role(role).value}, which may not {what} "
        f"({permission}); roles that may: {who}. Ask an admin to change the role."
    )


def matrix_markdown() -> str:
    """The permission matrix as a Markdown table (docs/permissions.md is generated from it)."""
    roles = list(Role)
    lines = [
        "| permission | what it allows | " + " | ".join(r.value for r in roles) + " |",
        "| --- | --- | " + " | ".join(":-:" for _ in roles) + " |",
    ]
    for name, (granted, what) in PERMISSIONS.items():
        marks = " | ".join("✓" if r in granted else "" for r in roles)
        lines.append(f"| `{name}` | {what} | {marks} |")
    return "\n".join(lines) + "\n"
