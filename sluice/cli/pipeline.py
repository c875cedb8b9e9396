"""``sluice init`` and ``sluice run``: the main job from the command line (``sluice demo``
lives in :mod:`sluice.cli.demo`).

Progress goes to stderr (a Rich status line driven by the pipeline's events), so
``--json`` output on stdout stays clean. The story printed at the end comes from
the same summary as ``--json`` and the HTML report. Exit codes: 0 registered
(or reused), 1 a gate or validation failed, 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from sluice.cli.demo import demo
from sluice.cli.output import (
    JSON_OPTION,
    console,
    escape,
    print_json,
    print_table,
    run_command,
)


def register(app: typer.Typer) -> None:
    """Add the top-level commands of the main job to ``app``."""
    app.command("init")(init)
    app.command("run")(run)
    app.command("demo")(demo)
    app.command("ci")(ci)


def init(
    data: Path = typer.Option(..., "--data", help="CSV or Parquet file to learn from."),
    target: str = typer.Option(..., "--target", help="The column to predict."),
    task: str | None = typer.Option(
        None, "--task", help="classification or regression (inferred when absent)."
    ),
    time_column: str | None = typer.Option(
        None, "--time-column", help="Order rows by this column (time-ordered holdout)."
    ),
    name: str | None = typer.Option(None, "--name", help="Project and model name."),
    out: Path = typer.Option(Path("sluice.yaml"), "--out", help="Where to write the file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented sluice.yaml inferred from the data."""

    def body() -> None:
        from sluice.templates.tabular.scaffold import scaffold

        made = scaffold(
            data, target, out=out, task=task, time_column=time_column, name=name, force=force
        )
        con = console()
        con.print(f"Wrote [bold]{escape(str(made.path))}[/]: {made.task}, metric {made.metric}.")
        if made.time_column:
            con.print(
                f"Rows are ordered by {made.time_column!r} (time-ordered holdout).", markup=False
            )
        for col, why in made.dropped.items():
            con.print(f"  drop {col!r}: {why}", markup=False)
        con.print("Review it, then run [bold]sluice run[/].")

    run_command(body)


def run(
    config: Path = typer.Argument(Path("sluice.yaml"), help="The job's sluice.yaml."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Run the main job: version, validate, clean, split, select, evaluate, gate, register."""

    def body() -> int:
        from sluice.cli.remote import client
        from sluice.templates.tabular.checks import plan_job
        from sluice.templates.tabular.config import load_config

        job = load_config(config)
        plan = plan_job(job)  # input errors surface before a store is opened or created
        api = client()  # a team server when SLUICE_TRACKING_URI names one
        with Progress(quiet=json_out) as progress:
            done = api.run_job(job, plan=plan, on_event=progress.update)
        if json_out:
            print_json(done["summary"])
        else:
            tell_story(done["summary"])
        return int(done["exit_code"])

    code = run_command(body)
    raise typer.Exit(code)


def ci(
    config: Path = typer.Argument(Path("sluice.yaml"), help="The job's sluice.yaml."),
    run_id: str | None = typer.Option(
        None, "--run", help="Summarize this earlier run instead of running the job."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Run the job (or take --run), print a Markdown summary, exit 1 when a gate failed.

    The summary is appended to $GITHUB_STEP_SUMMARY when that is set (GitHub Actions).
    """

    def body() -> int:
        import os

        from sluice.cli.remote import client, current
        from sluice.templates.tabular.checks import plan_job
        from sluice.templates.tabular.ci import markdown_summary
        from sluice.templates.tabular.config import load_config
        from sluice.templates.tabular.summary import summarize

        job = load_config(config)
        plan = plan_job(job)
        if run_id is None:
            summary = client().run_job(job, plan=plan)["summary"]
        else:
            from sluice.pipelines import get_run

            ws = current()  # an earlier run's summary is read from the local store
            summary = summarize(ws, job, plan, get_run(ws, run_id).id, 0.0, None)
        text = markdown_summary(summary)
        target = os.environ.get("GITHUB_STEP_SUMMARY")
        if target:
            with open(target, "a", encoding="utf-8") as out:
                out.write(text + "\n")
        if json_out:
            print_json(summary | {"markdown": text})
        else:
            typer.echo(text, nl=False)
        return 0 if summary["outcome"]["ok"] else 1

    code = run_command(body)
    raise typer.Exit(code)


class Progress:
    """A Rich status line on stderr showing the running step; silent with --json."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.status: Any = None

    def __enter__(self) -> Progress:
        if not self.quiet:
            self.status = console(stderr=True).status("starting the pipeline…")
            self.status.start()
        return self

    def update(self, event: Any) -> None:
        if self.status is None:
            return
        kind = getattr(event.kind, "value", event.kind)
        if kind == "started":
            self.status.update(f"[{event.index}/{event.total}] {event.step}…")
        else:
            self.status.console.print(f"  {event}", highlight=False, markup=False)

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.stop()


def finish(result: Any, json_out: bool) -> None:
    if json_out:
        print_json(result.summary)
    else:
        tell_story(result.summary)


def tell_story(s: dict[str, Any]) -> None:
    """The end of ``sluice run``: what was found, chosen, checked and registered."""
    con = console()
    _story_data(con, s)
    _story_selection(con, s)
    _story_holdout(con, s)
    _story_gates(s)
    _story_end(con, s)


def _story_data(con: Any, s: dict[str, Any]) -> None:
    data = s.get("data")
    if data:
        con.print(
            f"\n[bold]Data[/] {data['name']}@{data['version']}: {data['n_rows']:,} rows, "
            f"{data['n_cols']} columns (hash {data['content_hash'][:12]})."
        )
    anomalies = s["validation"]["anomalies"]
    if anomalies:
        print_table(
            "Validation",
            ["severity", "column", "kind", "message"],
            [(a["severity"], a["column"] or "", a["kind"], a["message"]) for a in anomalies],
        )


def _story_selection(con: Any, s: dict[str, Any]) -> None:
    if not s["leaderboard"]:
        return
    print_table(
        f"Leaderboard (cross-validated {s['metric']})",
        ["", "candidate", "CV mean", "± std", "fit s", "µs/row", "size", "interpretability"],
        [
            (
                "★" if r["chosen"] else "",
                r["name"],
                f"{r['cv_mean']:.4g}",
                f"{r['cv_std']:.2g}",
                f"{r['fit_time']:.2f}",
                f"{r['latency_us']:.1f}",
                _size(r["size_bytes"]),
                r["interpretability"],
            )
            for r in s["leaderboard"]
        ],
    )
    con.print(f"[bold]Chosen:[/] {escape(s['choice']['winner'])}")
    for reason in s["choice"]["reasons"]:
        con.print(f"  • {reason}", markup=False)


def _story_holdout(con: Any, s: dict[str, Any]) -> None:
    holdout = s.get("holdout")
    if not holdout:
        return
    champion = s.get("champion")
    columns = ["metric", s["choice"]["winner"], "baseline"]
    if champion:
        columns.append(f"champion v{champion['version']}")
    rows = []
    metrics = holdout["metrics"]
    for name in sorted(metrics, key=lambda m: m != s["metric"]):  # the selection metric first
        value = metrics[name]
        row = [name, f"{value:.4g}", _fmt(holdout["baseline"].get(name))]
        if champion:
            row.append(_fmt(champion["metrics"].get(name)))
        rows.append(row)
    print_table("Holdout", columns, rows)
    for flag in s["flags"]:
        con.print(f"[yellow]{escape(flag['kind'])}:[/] {escape(flag['message'])}", highlight=False)


def _story_gates(s: dict[str, Any]) -> None:
    if s["gates"]:
        print_table(
            "Gates",
            ["gate", "verdict", "reason"],
            [(g["name"], "pass" if g["passed"] else "FAIL", g["reason"]) for g in s["gates"]],
        )


def _story_end(con: Any, s: dict[str, Any]) -> None:
    data, reg = s.get("data"), s.get("registered")
    chain = [f"dataset {data['name']}@{data['version']}" if data else None,
             f"pipeline run {s['run_id'][:12]}", f"{len(s['steps'])} steps",
             f"model {reg['uri']}" if reg else "no model version"]  # fmt: skip
    con.print("[bold]Lineage:[/] " + escape(" → ".join(c for c in chain if c)), highlight=False)
    t = s["timing"]
    all_cached = t["cache_hits"] == t["steps"]
    note = " (every step was a cache hit)" if all_cached else ""
    con.print(f"{t['cache_hits']} of {t['steps']} steps cached{note}; {t['total']:.2f} s.")
    color = "green" if s["outcome"]["ok"] else "red"
    con.print(f"[bold {color}]{escape(s['outcome']['message'])}[/]", highlight=False)
    con.print(f"Report: {s['report']}", highlight=False, markup=False)


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.4g}"


def _size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"
