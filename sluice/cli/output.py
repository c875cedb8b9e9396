"""How every command talks: Rich tables, ``--json`` for machines, typed errors to exit codes.

Exit codes: 0 ok; 1 a gate or check failed; 2 usage or input error.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


def console(stderr: bool = False) -> Any:
    """A Rich console; 120 columns when the output is not a terminal (logs, CI, pipes).

    Rich falls back to 80 columns there, which splits names and paths mid-word;
    ``COLUMNS`` still wins when it is set.
    """
    import os

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or "COLUMNS" in os.environ else 120
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def escape(text: str) -> str:
    """User data made safe to print inside Rich markup (``[usd]`` stays ``[usd]``)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def print_json(data: Any) -> None:
    """Strict JSON that jq and every parser read: an infinite or NaN number becomes null."""
    text = json.dumps(_plain(data), indent=2, ensure_ascii=False, allow_nan=False)
    sys.stdout.write(text + "\n")


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str | int | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return [_plain(v) for v in sorted(value)]
    if hasattr(value, "to_dict"):
        return _plain(value.to_dict())
    if hasattr(value, "item"):
        return _plain(value.item())
    return str(value)


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    empty: str | None = None,
) -> None:
    """A table whose cells are shown as they are: 'price [usd]' is data, not Rich markup.

    With no rows and an ``empty`` message, the message is printed instead of an empty table.
    """
    from rich.table import Table
    from rich.text import Text

    rows = list(rows)
    if not rows and empty is not None:
        console().print(empty, markup=False)
        return
    table = Table(title=title, title_justify="left", header_style="bold")
    for col in columns:
        table.add_column(Text(col), overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    console().print(table)


def fail(message: str, code: int = 2) -> typer.Exit:
    console(stderr=True).print(
        f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True
    )
    return typer.Exit(code)


def run_command(fn: Callable[[], Any]) -> Any:
    """Run a command body, turning sluice errors into a message and their exit code."""
    from sluice.errors import SluiceError

    try:
        return fn()
    except SluiceError as exc:
        console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
