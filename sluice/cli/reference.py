"""Generate the CLI reference (docs/cli.md) from the commands' own help.

``python -m sluice.cli.reference > docs/cli.md``; ``tests/test_docs.py`` fails when
the file is out of date or a command has no help text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer


def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command below ``command`` (a click command, as typer builds it), with its path."""
    yield path, command
    if hasattr(command, "commands"):
        for name in sorted(command.commands):
            yield from walk(command.commands[name], (*path, name))


def render(app: typer.Typer) -> str:
    from typer.testing import CliRunner

    runner = CliRunner()
    env = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1", "_TYPER_FORCE_DISABLE_TERMINAL": "1"}
    parts = [
        "# Command-line reference\n",
        "Generated from `--help` by `python -m sluice.cli.reference`; do not edit by hand.\n",
    ]
    for path, _command in walk(typer.main.get_command(app)):
        result = runner.invoke(app, [*path, "--help"], env=env, prog_name="sluice")
        name = " ".join(("sluice", *path))
        parts.append(f"## `{name}`\n\n```text\n{_plain(result.output)}\n```\n")
    return "\n".join(parts)


def _plain(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


if __name__ == "__main__":
    import sys

    from sluice.cli.main import app

    sys.stdout.write(render(app))
