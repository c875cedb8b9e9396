"""``sluice inbox`` and ``sluice review``: the reviewers' side of approval requests."""

from __future__ import annotations

import datetime as dt

import typer

from sluice.cli.output import JSON_OPTION, console, print_json, print_table, run_command


def register(app: typer.Typer) -> None:
    app.command("inbox")(inbox)
    app.command("review")(review)


def inbox(
    show_all: bool = typer.Option(
        False, "--all", help="Every request with its state, not only those awaiting you."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Approval requests awaiting your review (others' open requests), newest first."""

    def body() -> None:
        from sluice.cli.remote import client

        api = client()
        found = api.requests() if show_all else api.inbox()
        if as_json:
            print_json(found)
            return
        rows = [
            (
                r["id"],
                f"models:/{r['model']}/{r['version']}",
                r["alias"],
                r["requester"],
                r["reason"],
                f"{r['approvals']}/{r['approvals_needed']}",
                r["status"] + (f": {r['closed_reason']}" if r["closed_reason"] else ""),
                _when(r["created_at"]),
            )
            for r in found
        ]
        print_table(
            "Approval requests" if show_all else "Awaiting your review",
            ("id", "version", "alias", "asked by", "reason", "approvals", "state", "asked (UTC)"),
            rows,
            empty="No approval requests yet."
            if show_all
            else "Nothing awaits your review. `sluice inbox --all` lists every request.",
        )

    run_command(body)


def review(
    request_id: int = typer.Argument(..., help="The request's id (`sluice inbox`)."),
    decision: str = typer.Argument(..., help="approve, reject or comment."),
    comment: str = typer.Option("", "--comment", "-c", help="Why; kept with the decision."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Approve, reject or comment on a request; the deciding approval moves the alias."""

    def body() -> None:
        from sluice.cli.remote import client

        done = client().review(request_id, decision, comment)
        if as_json:
            print_json(done)
            return
        state, model, alias = done["status"], done["model"], done["alias"]
        if state == "approved":
            line = f"Approved: models:/{model}/{done['version']} is now {model}@{alias}."
        elif state == "open":
            line = (
                f"Noted. Request {done['id']} has {done['approvals']}/"
                f"{done['approvals_needed']} approvals."
            )
        else:
            why = f" ({done['closed_reason']})" if done["closed_reason"] else ""
            line = f"Request {done['id']} is {state}{why}; {model}@{alias} did not move."
        console().print(line, markup=False, soft_wrap=True)

    run_command(body)


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")
