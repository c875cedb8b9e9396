"""``sluice demo``: the main job on 2011, then 2012 in production, told as one story.

First act: the main job trains, gates and registers version 1 on the 2011 rows
of the bundled bike-sharing data. Second act (skip it with ``--no-serve``): the
champion is served over HTTP, 2012 is replayed hour by hour with its labels,
the monitor catches the decay, a retrained candidate beats the champion through
the gates and the server follows the alias. Progress goes to stderr; ``--json``
prints both acts' summaries as one object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from sluice.cli.output import JSON_OPTION, console, print_json, print_table, run_command


def demo(
    home: Path = typer.Option(
        Path("sluice-demo"), "--home", help="Folder for the demo's store, reports and sluice.yaml."
    ),
    serve: bool = typer.Option(
        True,
        "--serve/--no-serve",
        help="After training, serve the model and replay 2012 through it (about a minute more).",
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Train on the bundled bike-sharing data (2011), then serve, monitor and retrain on 2012."""

    def body() -> int:
        from sluice.cli.pipeline import Progress, finish
        from sluice.cli.remote import local_only
        from sluice.templates.tabular.demo import run_demo
        from sluice.templates.tabular.lifecycle import stored_lifecycle

        local_only()  # the demo keeps its own store in --home
        earlier = stored_lifecycle(home.absolute()) if serve else None
        if earlier is not None:  # the story is told once per folder; show what it left
            if json_out:
                print_json({"training": None, "production": earlier.to_dict()})
            else:
                tell_lifecycle(earlier, home)
            return 0
        with Progress(quiet=json_out) as progress:
            result = run_demo(home, on_event=progress.update)
        if not serve or result.exit_code != 0:
            finish(result, json_out)
            return int(result.exit_code)
        if not json_out:
            finish(result, json_out)
            console().print("\n[bold]Second act: 2012 in production[/]")
        lifecycle = _second_act(home, quiet=json_out)
        if json_out:
            print_json({"training": result.summary, "production": lifecycle.to_dict()})
        else:
            tell_lifecycle(lifecycle, home)
        return 0 if lifecycle.errors == 0 else 1

    code = run_command(body)
    raise typer.Exit(code)


def _second_act(home: Path, *, quiet: bool) -> Any:
    from sluice.templates.tabular.lifecycle import run_lifecycle

    if quiet:
        return run_lifecycle(home.absolute())
    status = console(stderr=True).status("starting the model server…")
    status.start()
    try:
        return run_lifecycle(home.absolute(), progress=status.update)
    finally:
        status.stop()


def tell_lifecycle(life: Any, home: Path) -> None:
    """The second act's story: traffic, windows, alerts, retrainings, what is served now."""
    con = console()
    if life.already_ran:
        con.print(
            f"The demo already ran in {home}: 2012 was replayed ({life.logged:,} predictions "
            f"in the log) and version {life.versions_served[0]} is the champion now. Its "
            f"stored windows are below. To watch it again: rm -r {home} && sluice demo "
            "(or pass --home with another folder).",
            markup=False,
        )
    else:
        con.print(
            f"2012 replayed hour by hour: {life.requests:,} requests to POST /predict "
            f"({life.errors} errors), {life.feedback:,} labels to POST /feedback, "
            f"{life.logged:,} predictions in the log; versions served: "
            + ", ".join(f"v{v}" for v in life.versions_served)
            + f"; {life.seconds:.0f} s.",
            markup=False,
        )
    print_table(
        "Monitor bike-demand-live (windows of 2,160 rows ≈ 90 days)",
        [
            "window",
            "served",
            "rows",
            "RMSE (its holdout)",
            "v1's RMSE",
            "drifted features",
            "status",
            "action",
        ],
        [_window_row(w, life.retrainings) for w in life.windows],
        empty="The monitor has no results yet.",
    )
    for r in life.retrainings:
        gates = r.get("gates") or []
        passed = sum(1 for g in gates if g.get("passed"))
        outcome = (
            f"registered {r['registered']}"
            + (f" and moved @{r['alias']} to it" if r.get("promoted") else "")
            if r.get("registered")
            else "nothing registered"
        )
        con.print(
            f"Retraining after window {r['window']}: {r['dataset_rows']:,} newest rows "
            f"({r['new_rows']:,} from the log), run {str(r['run_id'])[:12]}, "
            f"gates {passed}/{len(gates)} passed, {outcome}.",
            markup=False,
        )
        for g in gates:
            if g.get("kind") == "no_regression":
                con.print(f"  {g['reason']}", markup=False)
    reports = [w["report"] for w in life.windows if w.get("report")]
    if reports:
        con.print(f"Drift reports: {Path(reports[0]).parent}/ (one per window)", markup=False)
    if life.server_log:
        con.print(f"Server log: {life.server_log}", markup=False)


def _window_row(w: dict[str, Any], retrainings: list[dict[str, Any]]) -> list[str]:
    value, baseline = w.get("value"), w.get("baseline")
    rmse = "–" if value is None else f"{value:.1f}"
    if value is not None and baseline is not None:
        rmse += f" ({baseline:.1f})"
    drifted = list(w.get("drifted_columns") or [])
    shown = ", ".join(drifted[:4]) + (f" +{len(drifted) - 4}" if len(drifted) > 4 else "")
    return [
        str(w.get("index", "")),
        f"v{w.get('version')}",
        f"{w.get('rows', 0):,}",
        rmse,
        _fmt(w.get("first_champion")),
        shown or "none",
        str(w.get("status", "")),
        _action(w, retrainings),
    ]


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.1f}"


def _action(w: dict[str, Any], retrainings: list[dict[str, Any]]) -> str:
    for r in retrainings:
        if r.get("window") == w.get("index"):
            if not r.get("registered"):
                return "retrained: gates failed, nothing registered"
            version = "v" + str(r["registered"]).rsplit("/", 1)[-1]
            return f"retrained → {version}" + (" (promoted)" if r.get("promoted") else "")
    return ", ".join(w.get("alerts") or [])
