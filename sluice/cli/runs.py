"""``sluice runs``: list, show, read the logs of and resume pipeline runs."""

from __future__ import annotations

from typing import Any

import typer

from sluice.cli.output import (
    JSON_OPTION,
    console,
    escape,
    print_json,
    print_table,
    run_command,
)

app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Pipeline runs: list, show, logs, resume."
)

RUN_ARG = typer.Argument(..., help="Run id, or its first characters (at least 4).")


@app.command("list")
def list_(
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="Show at most this many runs."),
    pipeline: str | None = typer.Option(None, "--pipeline", help="Only runs of this pipeline."),
    status: str | None = typer.Option(None, "--status", help="Only runs in this state."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List pipeline runs, newest first, with duration and cache hits."""

    def body() -> None:
        from sluice.cli.remote import client

        runs = client().runs(limit=limit, pipeline=pipeline, status=status)
        if as_json:
            print_json(runs)
            return
        rows = [
            (
                r["id"][:12],
                r["pipeline"],
                r["status"],
                _when(r["created_at"]),
                _secs(r["duration"]),
                r["steps"],
                f"{r['cache_hits']}/{r['steps']}",
            )
            for r in runs
        ]
        columns = ("run", "pipeline", "status", "started (UTC)", "duration", "steps", "cached")
        print_table(
            "Pipeline runs",
            columns,
            rows,
            empty="No pipeline runs yet: start one with `sluice run`.",
        )

    run_command(body)


@app.command()
def show(run_id: str = RUN_ARG, as_json: bool = JSON_OPTION) -> None:
    """Show a run: its parameters and each step's status, cache use, timing, inputs and outputs."""

    def body() -> None:
        from sluice.cli.remote import client

        run = client().run(run_id)
        if as_json:
            print_json(run)
            return

        out = console()
        out.print(
            f"[bold]run[/] {run['id']}  [bold]pipeline[/] {escape(run['pipeline'])}  "
            f"[bold]status[/] {run['status']}  [bold]duration[/] {_secs(run['duration'])}  "
            f"[bold]executor[/] {escape(run['executor'])}"
        )
        out.print(f"[bold]params[/] {escape(_params(run['params']))}")
        if run["resumed_from"]:
            out.print(f"[bold]resumed from[/] {run['resumed_from']}")
        if run["error"]:
            out.print(f"[bold red]error[/] {escape(run['error'])}")
        where = run["executor"] != "local"  # in-process steps all ran here
        rows = [
            (
                s["name"],
                s["status"],
                _cache(s),
                s["attempts"],
                _secs(s["duration"]),
                *([s["host"] or ""] if where else []),
                _hashes(s["inputs"]),
                _hashes(s["outputs"]),
            )
            for s in run["steps"]
        ]
        columns = (
            "step",
            "status",
            "cache",
            "attempts",
            "duration",
            *(["ran on"] if where else []),
            "inputs",
            "outputs",
        )
        print_table(f"Steps ({run['cache_hits']} cached)", columns, rows)

    run_command(body)


@app.command()
def logs(
    run_id: str = RUN_ARG,
    step: str | None = typer.Argument(None, help="Only this step's log."),
) -> None:
    """Print the logs of a run's steps (what they logged, their errors and tracebacks)."""

    def body() -> None:
        from sluice.cli.remote import client

        for name, text in client().run_logs(run_id, step).items():
            typer.echo(f"== {name} ==")
            typer.echo(text or "(no log)")

    run_command(body)


@app.command()
def resume(run_id: str = RUN_ARG) -> None:
    """Re-run a failed run from its failed step; finished steps are reused."""

    def body() -> None:
        from sluice.cli.remote import current
        from sluice.pipelines import resume as resume_run

        err = console(stderr=True)
        run = resume_run(current(), run_id, on_event=lambda e: err.print(str(e), markup=False))
        typer.echo(
            f"run {run.id} {run.status.value} in {_secs(run.duration)} "
            f"({run.cache_hits}/{len(run.steps)} steps reused), resumed from {run.resumed_from}"
        )

    run_command(body)


def _when(stamp: float | None) -> str:
    import time

    return "" if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(stamp))


def _secs(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}s"


def _cache(step: Any) -> str:
    if step["cached"]:
        return f"hit ({step['cached_from'][:12]})"
    return "" if step["status"] == "skipped" else "miss"


def _hashes(items: Any) -> str:
    return "\n".join(f"{name}={address[:12]}" for name, address in items.items())


def _params(params: Any) -> str:
    import json

    return json.dumps(dict(params), ensure_ascii=False, default=str)
