"""Entry point of the ``sluice`` command."""

from __future__ import annotations

import typer

from sluice.cli import (
    approvals,
    audit,
    data,
    models,
    monitor,
    pipeline,
    projects,
    runs,
    serve,
    server,
    users,
)

app = typer.Typer(
    name="sluice",
    help="Versioned data in; a validated, selected, evaluated, gated and registered model out.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: importing rich.markdown would cost half a second
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
pipeline.register(app)
serve.register(app)
server.register(app)
approvals.register(app)
app.add_typer(data.app, name="data")
app.add_typer(runs.app, name="runs")
app.add_typer(models.app, name="models")
app.add_typer(monitor.app, name="monitor")
app.add_typer(audit.app, name="audit")
app.add_typer(projects.app, name="project")
app.add_typer(users.users_app, name="users")
app.add_typer(users.tokens_app, name="tokens")


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"sluice {version('sluice')}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Versioned data in; a validated, selected, evaluated, gated and registered model out."""


def main() -> None:
    app()
