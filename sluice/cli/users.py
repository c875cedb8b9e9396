"""``sluice users`` and ``sluice tokens``: who may use a team store, and their API tokens."""

from __future__ import annotations

import datetime as dt

import typer

from sluice.cli.output import JSON_OPTION, console, print_json, print_table, run_command

users_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Users and their roles: viewer, scientist, engineer, approver, admin.",
)
tokens_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="API tokens for the team server: create (shown once), list, revoke.",
)
NAME_ARG = typer.Argument(..., help="The user's name.")


@users_app.command("add")
def add(
    name: str = NAME_ARG,
    role: str = typer.Option(
        ..., "--role", "-r", help="viewer, scientist, engineer, approver or admin."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a user with a role (see docs/permissions.md for what each role may do)."""

    def body() -> None:
        from sluice.cli.remote import client

        user = client().add_user(name, role)
        if as_json:
            print_json(user)
            return
        console().print(
            f"Added {user['name']} ({user['role']}). Give them a token with "
            f"`sluice tokens create {user['name']}`.",
            markup=False,
            soft_wrap=True,
        )

    run_command(body)


@users_app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List users with their role and whether they are disabled."""

    def body() -> None:
        from sluice.cli.remote import client

        api = client()
        users = api.users()
        if as_json:
            print_json(users)
            return
        active: dict[str, int] = {}
        for token in api.tokens():
            active[token["user"]] = active.get(token["user"], 0) + int(token["active"])
        rows = [
            (
                u["name"],
                u["role"],
                "disabled" if u["disabled"] else "active",
                active.get(u["name"], 0),
            )
            for u in users
        ]
        print_table(
            "Users",
            ("name", "role", "status", "active tokens"),
            rows,
            empty="No users yet: add one with `sluice users add NAME --role ROLE`.",
        )

    run_command(body)


@users_app.command("role")
def role(
    name: str = NAME_ARG,
    new_role: str = typer.Argument(..., help="viewer, scientist, engineer, approver or admin."),
) -> None:
    """Change a user's role."""

    def body() -> None:
        from sluice.cli.remote import client

        user = client().set_role(name, new_role)
        console().print(f"{user['name']} is now {user['role']}.", markup=False)

    run_command(body)


@users_app.command("disable")
def disable(name: str = NAME_ARG) -> None:
    """Disable a user: none of their tokens works any more; their history stays."""

    def body() -> None:
        from sluice.cli.remote import client

        user = client().disable_user(name)
        console().print(
            f"Disabled {user['name']}: their tokens no longer work.", markup=False, soft_wrap=True
        )

    run_command(body)


@tokens_app.command("create")
def create(
    user: str = typer.Argument(..., help="The user the token acts as."),
    label: str = typer.Option("", "--label", "-l", help="What the token is for, e.g. ci."),
    expires: str | None = typer.Option(
        None, "--expires", help="Lifetime: 30m, 24h, 90d, 2w (default: until revoked)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a token and print it once: only its hash is kept."""

    def body() -> None:
        from sluice.cli.remote import client
        from sluice.governance import parse_age

        lifetime = parse_age(expires, what="--expires") if expires is not None else None
        token = client().create_token(user, label=label, expires_in=lifetime)
        if as_json:
            print_json(token)
            return
        until = f", expires {_when(token['expires_at'])} UTC" if token["expires_at"] else ""
        console().print(
            f"Token {token['id']} for {token['user']}{until}. It is shown only now; keep it "
            f"secret:\n{token['token']}",
            markup=False,
            soft_wrap=True,
        )

    run_command(body)


@tokens_app.command("list")
def tokens_list(
    user: str | None = typer.Option(None, "--user", "-u", help="Only this user's tokens."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List tokens (never their secrets): id, user, label, prefix, state, last use."""

    def body() -> None:
        from sluice.cli.remote import client

        tokens = client().tokens(user)
        if as_json:
            print_json(tokens)
            return
        rows = [
            (
                t["id"],
                t["user"],
                t["label"],
                t["prefix"] + "…",
                "active" if t["active"] else ("revoked" if t["revoked_at"] else "expired"),
                _when(t["created_at"]),
                _when(t["last_used_at"]) if t["last_used_at"] else "never",
            )
            for t in tokens
        ]
        print_table(
            "Tokens",
            ("id", "user", "label", "starts with", "state", "created (UTC)", "last used"),
            rows,
            empty="No tokens yet: create one with `sluice tokens create USER`.",
        )

    run_command(body)


@tokens_app.command("revoke")
def revoke(
    token_id: int = typer.Argument(..., help="The token's id (`sluice tokens list`)."),
) -> None:
    """Revoke a token: it stops working at once."""

    def body() -> None:
        from sluice.cli.remote import client

        token = client().revoke_token(token_id)
        console().print(f"Revoked token {token['id']} of {token['user']}.", markup=False)

    run_command(body)


def _when(ts: float | None) -> str:
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")
