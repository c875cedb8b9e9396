"""``sluice monitor``: watch a served model for drift and decay, and act on what is found.

Exit codes: ``run`` exits 1 when it raised an alert (so a cron job can page),
0 otherwise; every input error exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from sluice.cli.output import JSON_OPTION, console, print_json, print_table, run_command

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Monitors: drift, prediction drift and performance of a served model, with alerts.",
)

NAME_ARG = typer.Argument(..., help="The monitor's name.")


@app.command()
def create(
    name: str = NAME_ARG,
    model: str = typer.Option(
        ..., "--model", "-m", metavar="NAME@ALIAS", help="The model alias to follow."
    ),
    window: str = typer.Option(
        "1d", "--window", "-w", help="Window per evaluation: 30m, 6h, 1d, 1w or 10000rows."
    ),
    reference: str | None = typer.Option(
        None,
        "--reference",
        metavar="DATASET@VERSION",
        help="Compare with this dataset version (default: the served version's training data).",
    ),
    webhook: str | None = typer.Option(None, "--webhook", help="POST each alert to this URL."),
    webhook_secret_env: str | None = typer.Option(
        None,
        "--webhook-secret-env",
        metavar="VAR",
        help="Sign webhook bodies (HMAC-SHA256) with the secret in this environment variable.",
    ),
    webhook_timeout: float = typer.Option(
        5.0, "--webhook-timeout", min=0.1, help="Seconds to wait for the webhook."
    ),
    retrain: Path | None = typer.Option(
        None, "--retrain", metavar="CONFIG", help="Retrain with this sluice.yaml on an alert."
    ),
    retrain_rows: int | None = typer.Option(
        None, "--retrain-rows", min=1, help="With --retrain: train on the newest N rows only."
    ),
    promote: bool = typer.Option(
        False, "--promote", help="With --retrain: move the alias when every gate passes."
    ),
    log: bool = typer.Option(True, "--log/--no-log", help="Log each alert (on by default)."),
    p_value: float = typer.Option(0.05, "--p-value", help="Drift when a test's p is below."),
    dataset_share: float = typer.Option(
        0.5, "--dataset-share", help="Data drift when this share of the columns drifted."
    ),
    missing_shift: float = typer.Option(
        0.1, "--missing-shift", help="Alert when a column's missing share grows by more."
    ),
    tolerance: float = typer.Option(
        0.1, "--tolerance", help="Decay when the metric is worse than holdout by this fraction."
    ),
    metric: str | None = typer.Option(
        None, "--metric", help="Metric for performance (default: the model's own)."
    ),
    min_rows: int = typer.Option(30, "--min-rows", min=1, help="Fewer rows: not judged."),
    min_labels: int = typer.Option(30, "--min-labels", min=1, help="Fewer labels: not judged."),
    alert_on: str | None = typer.Option(
        None,
        "--alert-on",
        help="Comma-separated kinds that alert (default all): data_drift, prediction_drift, "
        "missing_values, new_categories, performance_decay.",
    ),
) -> None:
    """Create a monitor of a model alias (checked before anything is stored)."""

    def body() -> None:
        from sluice.cli.remote import client
        from sluice.errors import ConfigError
        from sluice.monitoring import DriftSettings, MonitorSettings

        settings = MonitorSettings(
            drift=DriftSettings(p_value=p_value, dataset_share=dataset_share, min_rows=min_rows),
            missing_shift=missing_shift,
            performance_tolerance=tolerance,
            metric=metric,
            min_labels=min_labels,
            **({"alert_on": _kinds(alert_on)} if alert_on else {}),
        )
        actions: list[dict[str, Any]] = [{"type": "log"}] if log else []
        if webhook:
            hook: dict[str, Any] = {"type": "webhook", "url": webhook, "timeout": webhook_timeout}
            if webhook_secret_env:
                hook["secret_env"] = webhook_secret_env
            actions.append(hook)
        if retrain is not None:
            action: dict[str, Any] = {"type": "retrain", "config": str(retrain)}
            if retrain_rows:
                action["window_rows"] = retrain_rows
            if promote:
                action["promote"] = True
            actions.append(action)
        elif retrain_rows or promote:
            raise ConfigError(
                "Expected --retrain CONFIG with --retrain-rows or --promote; got them without "
                "it. Add --retrain path/to/sluice.yaml, or drop those options."
            )
        monitor = client().create_monitor(
            name,
            model=model,
            window=window,
            reference=reference,
            settings=settings.to_dict(),
            actions=actions,
        )
        console().print(
            f"Created monitor {monitor['name']}: {monitor['model']}, window "
            f"{monitor['window']}, actions: "
            f"{', '.join(a['type'] for a in monitor['actions']) or 'none'}. "
            f"Run it with `sluice monitor run {monitor['name']}`.",
            markup=False,
        )

    run_command(body)


@app.command()
def run(name: str = NAME_ARG, as_json: bool = JSON_OPTION) -> None:
    """Evaluate every window closed since the last run; exit 1 when an alert was raised."""

    def body() -> int:
        from sluice.cli.remote import client

        api = client()
        outcome = api.run_monitor(name)
        results = outcome["results"]
        report = _report(api, name, results[-1]) if results else None
        if as_json:
            print_json(outcome | {"report": report})
        else:
            console().print(outcome["message"], markup=False)
            if results:
                _results_table(f"Windows evaluated by {name}", results)
            _alerts_table(outcome["alerts"])
            if report:
                console().print(f"Report of the latest window: {report}", markup=False)
        return 1 if outcome["alerts"] else 0

    code = run_command(body)
    if code:
        raise typer.Exit(code)


@app.command()
def show(
    name: str = NAME_ARG,
    last: int = typer.Option(10, "--last", "-n", min=1, help="Show this many latest windows."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a monitor, its latest results and alerts, and the latest report's path."""

    def body() -> None:
        from sluice.cli.remote import client

        api = client()
        found = api.monitor(name, last=last)
        monitor, results, alerts = found["monitor"], found["results"], found["alerts"]
        report = _report(api, name, results[0]) if results else None
        if as_json:
            print_json(
                {
                    "monitor": monitor,
                    "results": results,
                    "alerts": alerts,
                    "report": report,
                }
            )
            return
        facts = [
            ("model", monitor["model"]),
            ("window", monitor["window"]),
            ("reference", found["reference"] or "the served version's training data"),
            ("evaluated up to", _when(monitor["cursor"])),
            ("actions", ", ".join(_action(a) for a in monitor["actions"]) or "none"),
            ("alert on", ", ".join(monitor["settings"]["alert_on"])),
        ]
        print_table(f"Monitor {monitor['name']}", ["field", "value"], facts)
        if not results:
            console().print(
                f"No window evaluated yet: run `sluice monitor run {monitor['name']}`.",
                markup=False,
            )
            return
        _results_table("Latest windows (newest first)", results)
        _alerts_table(alerts)
        if report:
            console().print(f"Report of the latest window: {report}", markup=False)

    run_command(body)


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List monitors with their model, window and latest status."""

    def body() -> None:
        from sluice.cli.remote import client

        monitors = client().monitors()
        if as_json:
            print_json(monitors)
            return
        rows = [
            (
                m["name"],
                m["model"],
                m["window"],
                _when(m["cursor"]),
                m["latest"]["status"] if m["latest"] else "not run",
            )
            for m in monitors
        ]
        print_table(
            "Monitors",
            ["name", "model", "window", "evaluated up to", "latest"],
            rows,
            empty="No monitors yet: create one with "
            "`sluice monitor create NAME --model NAME@ALIAS`.",
        )

    run_command(body)


# -- helpers ----------------------------------------------------------------------------


def _kinds(text: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in text.split(",") if k.strip())


def _report(api: Any, name: str, result: dict[str, Any]) -> str:
    """Where to read a result's HTML report: on a local store, a file under the
    workspace's ``reports`` folder (the stored page copied out, or rendered from the
    summary when none was stored); on a team server, its address there."""
    from sluice.artifacts.local import atomic_write
    from sluice.client import LocalClient

    if not isinstance(api, LocalClient):
        return str(api.report_url(name, result["id"]))
    home = Path(api.ws.settings.home)
    path = home / "reports" / f"monitor-{name}-{result['id']}.html"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, api.monitor_report(name, result["id"]).encode("utf-8"))
    return str(path)


def _results_table(title: str, results: Any) -> None:
    rows = [
        (
            r["id"],
            _when(r["window_start"]),
            _when(r["window_end"]),
            r["rows"],
            r["model_version"],
            r["status"],
            _short(str(r["summary"].get("verdict", ""))),
        )
        for r in results
    ]
    print_table(
        title, ["id", "from (UTC)", "to (UTC)", "rows", "version", "status", "verdict"], rows
    )


def _alerts_table(alerts: Any) -> None:
    if not alerts:
        return
    rows = [
        (
            a["result_id"],
            a["kind"],
            _short(a["message"]),
            "; ".join(_outcome(o) for o in a["actions"]),
        )
        for a in alerts
    ]
    print_table("Alerts", ["window", "kind", "message", "actions"], rows)


def _outcome(outcome: Any) -> str:
    kind = outcome.get("type", "?")
    if outcome.get("skipped"):
        return f"{kind}: skipped ({outcome['skipped']})"
    if outcome.get("ok"):
        extra = f" HTTP {outcome['status']}" if outcome.get("status") else ""
        if kind == "retrain":
            extra = (
                f" run {outcome.get('run_id')}, gates passed: {outcome.get('gates_passed')}, "
                f"registered: {outcome.get('registered_version') or 'no'}"
            )
        return f"{kind}: ok{extra}"
    return f"{kind}: failed ({outcome.get('error', 'unknown error')})"


def _action(action: Any) -> str:
    if action.get("type") == "webhook":
        signed = f", signed with ${action['secret_env']}" if action.get("secret_env") else ""
        return f"webhook {action.get('url')}{signed}"
    if action.get("type") == "retrain":
        return f"retrain with {action.get('config')}"
    return str(action.get("type"))


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
