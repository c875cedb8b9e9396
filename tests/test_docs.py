"""The docs say what the code does: every command has help, the CLI reference is current."""

from __future__ import annotations

from pathlib import Path

import typer

from sluice.cli.main import app
from sluice.cli.reference import render, walk

ROOT = Path(__file__).resolve().parents[1]


def test_every_command_has_help_text() -> None:
    missing = [
        " ".join(path) or "sluice"
        for path, command in walk(typer.main.get_command(app))
        if not (command.help or command.short_help)
    ]
    assert missing == []


def test_cli_reference_is_up_to_date() -> None:
    expected = render(app)
    actual = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/cli.md is stale: python -m sluice.cli.reference > docs/cli.md"


def test_permission_matrix_is_up_to_date() -> None:
    from sluice.governance.roles import matrix_markdown

    doc = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert matrix_markdown() in doc, "docs/permissions.md is stale: paste matrix_markdown()"
