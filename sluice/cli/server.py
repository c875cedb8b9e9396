"""``sluice server``: the team server, a REST API over this store with users and roles."""

from __future__ import annotations

import typer

from sluice.cli.output import console, run_command


def register(app: typer.Typer) -> None:
    app.command("server")(server)
    app.command("ui")(ui)


def server(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8080, "--port", help="TCP port."),
    access_log: bool = typer.Option(False, "--access-log", help="Print one line per request."),
    max_token_failures: int = typer.Option(
        10,
        "--max-token-failures",
        min=1,
        help="Wrong tokens a client may send per minute before it gets 429.",
    ),
) -> None:
    """Serve the store over HTTP for a team: tokens, roles, audit (OpenAPI at /openapi.json).

    The first start on a store without users creates the user admin and prints its token once.
    """

    run_command(lambda: _serve(host, port, access_log, max_token_failures))


def ui(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8080, "--port", help="TCP port."),
    user: str | None = typer.Option(
        None, "--user", "-u", help="Sign in as this user (default: an admin)."
    ),
    hours: float = typer.Option(12, "--hours", min=0.1, help="How long the sign-in token lasts."),
) -> None:
    """Start the dashboard on this store and print its address and a sign-in token.

    The token (for --user, or an admin) expires after --hours; it is made like any
    other (`sluice tokens create`), so whoever can run this can make one anyway.
    """

    def body() -> None:
        from sluice.cli.remote import current
        from sluice.governance import create_token, list_users
        from sluice.server import ensure_admin

        ws = current()
        ensure_admin(ws)  # a store without users gets its admin, as `sluice server` does
        names = [u.name for u in list_users(ws) if not u.disabled]
        admins = [u.name for u in list_users(ws) if u.role.value == "admin" and not u.disabled]
        who = user or (admins[0] if admins else None)
        if who is None or who not in names:
            from sluice.errors import ConfigError

            raise ConfigError(
                f"Expected --user to name an enabled user of this store ({', '.join(names)}); "
                f"got {who!r}."
            )
        _, secret = create_token(ws, who, label="sluice ui", expires_in=hours * 3600)
        console().print(
            f"Dashboard: http://{host}:{port}/ui/ — sign in as {who} with this token "
            f"(valid {hours:g} h):\n{secret}",
            markup=False,
            soft_wrap=True,
        )
        _serve(host, port, False, 10, announce=False)

    run_command(body)


def _serve(
    host: str, port: int, access_log: bool, max_token_failures: int, *, announce: bool = True
) -> None:
    import uvicorn
    from sqlalchemy.engine import make_url

    from sluice.cli.remote import current
    from sluice.server import create_app, ensure_admin
    from sluice.server.auth import FailureLimiter

    ws = current()
    secret = ensure_admin(ws)
    out = console()
    if secret is not None and announce:
        out.print(
            "First start: created the user admin. Its token, shown only now (keep it "
            f"secret; make others with `sluice tokens create`):\n{secret}",
            markup=False,
            soft_wrap=True,
        )
    store = make_url(ws.settings.db_url).render_as_string(hide_password=True)
    out.print(
        f"sluice team server for {store} on http://{host}:{port} "
        f"(API under /api/v1, spec at /openapi.json, dashboard at /ui/); Ctrl-C to stop.",
        markup=False,
        soft_wrap=True,
    )
    uvicorn.run(
        create_app(ws, limiter=FailureLimiter(max_token_failures)),
        host=host,
        port=port,
        access_log=access_log,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )
