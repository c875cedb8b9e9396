"""``sluice audit``: read the audit trail and verify its hash chain."""

from __future__ import annotations

from typing import Any

import typer

from sluice.cli.output import JSON_OPTION, console, print_json, print_table, run_command

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="The audit trail: every change of state, hash-chained; list and verify.",
)


@app.command("log")
def log(
    target: str | None = typer.Option(
        None,
        "--target",
        help="Only this target and what is under it: models:/NAME, models:/NAME@ALIAS, "
        "datasets:/NAME, runs:/ID, monitors:/NAME.",
    ),
    actor: str | None = typer.Option(None, "--actor", help="Only what this user did."),
    action: str | None = typer.Option(
        None, "--action", help="Only this action, e.g. model.alias_moved."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Only from then on: 2026-12-01, 2026-12-01T10:00 (UTC), or 7d, 24h."
    ),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="Show at most this many events."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List audit events, newest first: who did what to which target, before and after."""

    def body() -> None:
        from sluice.cli.remote import client
        from sluice.governance import parse_since

        if since is not None:
            parse_since(since)  # checked before any call
        events = client().audit_log(
            target=target, actor=actor, action=action, since=since, limit=limit
        )
        if as_json:
            print_json(events)
            return
        rows = [
            (
                e["seq"],
                e["time"][:19].replace("T", " "),
                e["actor"],
                e["action"],
                e["target"],
                _change(e["before"], e["after"]),
            )
            for e in events
        ]
        print_table(
            "Audit trail (newest first)",
            ("#", "time (UTC)", "actor", "action", "target", "change"),
            rows,
            empty="No audit events match."
            if any(v is not None for v in (target, actor, action, since))
            else "No audit events yet: they are recorded as data, runs and models change.",
        )

    run_command(body)


@app.command()
def verify(as_json: bool = JSON_OPTION) -> None:
    """Check every event's hash and link; exit 1 naming the first broken link."""

    def body() -> int:
        from sluice.cli.remote import client

        report = client().audit_verify()
        if as_json:
            print_json(report)
        elif report["ok"]:
            console().print(
                f"The audit trail is intact: {report['events']:,} events, head "
                f"{report['head_seq']} ({report['head_hash']}). Keep the head somewhere else "
                "to anchor it.",
                markup=False,
                soft_wrap=True,
            )
        else:
            console(stderr=True).print(
                f"The audit trail is broken at event {report['broken_seq']}: "
                f"{report['problem']}. {report['events']:,} events read; the head records "
                f"event {report['head_seq']}.",
                markup=False,
                soft_wrap=True,
            )
        return 0 if report["ok"] else 1

    code = run_command(body)
    if code:
        raise typer.Exit(code)


def _change(before: Any, after: Any) -> str:
    """A short line for the table (``--json`` has everything): what changed, or what was made."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [k for k in after if before.get(k) != after.get(k)]
        return ", ".join(f"{k}: {_short(before.get(k))} → {_short(after.get(k))}" for k in keys)
    if before is None and isinstance(after, dict):
        if set(after) == {"version"}:
            return f"version: none → {after['version']}"
        return ", ".join(f"{k}={_short(v)}" for k, v in after.items() if v is not None)
    if before is None and after is None:
        return ""
    return f"{_short(before)} → {_short(after)}"


def _short(value: Any, limit: int = 40) -> str:
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value[:12]  # a hash
    if isinstance(value, dict):
        text = ", ".join(f"{k}: {_short(v, 12)}" for k, v in list(value.items())[:3])
        return "{" + text + (", …}" if len(value) > 3 else "}")
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    if len(text) <= limit:
        return text
    if text.startswith("/"):  # a path: its end says the most
        return "…" + text[-(limit - 1) :]
    return text[: limit - 1] + "…"
