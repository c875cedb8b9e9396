"""``sluice server``: the team server, a REST API over this store with users and roles."""

from __future__ import annotations

import typer

from sluice.cli.output import console, run_command


def register(app: typer.Typer) -> None:
    app.command("server")(server)


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

    def body() -> None:
        import uvicorn
        from sqlalchemy.engine import make_url

        from sluice.cli.remote import current
        from sluice.server import create_app, ensure_admin
        from sluice.server.auth import FailureLimiter

        ws = current()
        secret = ensure_admin(ws)
        out = console()
        if secret is not None:
            out.print(
                "First start: created the user admin. Its token, shown only now (keep it "
                f"secret; make others with `sluice tokens create`):\n{secret}",
                markup=False,
                soft_wrap=True,
            )
        store = make_url(ws.settings.db_url).render_as_string(hide_password=True)
        out.print(
            f"sluice team server for {store} on http://{host}:{port} "
            f"(API under /api/v1, spec at /openapi.json); Ctrl-C to stop.",
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

    run_command(body)
