"""``sluice project``: objectives with a metric and a target, owners, and where things stand."""

from __future__ import annotations

import typer

from sluice.cli.output import JSON_OPTION, console, print_json, print_table, run_command

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Projects: objective, metric and target, owner, stage, approval policy.",
)
NAME_ARG = typer.Argument(..., help="The project's name.")


@app.command()
def create(
    name: str = NAME_ARG,
    objective: str = typer.Option(..., "--objective", help="What the model is for."),
    metric: str | None = typer.Option(None, "--metric", help="The metric that matters."),
    target: str | None = typer.Option(None, "--target", help="e.g. 'rmse <= 60'."),
    owner: str | None = typer.Option(None, "--owner", help="Who answers for the project."),
    model: str | None = typer.Option(None, "--model", help="Its model (default: the name)."),
    dataset: str | None = typer.Option(None, "--dataset", help="Its data (default: the name)."),
    approvals: int = typer.Option(
        1, "--approvals", min=1, help="Approvals a production request needs."
    ),
    reviewers: str = typer.Option(
        "approver,admin", "--reviewers", help="Roles that may decide requests, comma-separated."
    ),
    no_gates: bool = typer.Option(
        False, "--no-gates", help="Let versions without passed gates be requested."
    ),
    webhook: str | None = typer.Option(
        None, "--webhook", help="POST every request and decision to this URL."
    ),
    webhook_secret_env: str | None = typer.Option(
        None, "--webhook-secret-env", metavar="VAR", help="Sign webhook bodies with $VAR."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a project; its stage then follows what exists (data, models, production, monitors)."""

    def body() -> None:
        from sluice.cli.remote import client

        roles = [r.strip() for r in reviewers.split(",") if r.strip()]
        fields = {
            "objective": objective,
            "target": target,
            "metric": metric,
            "owner": owner,
            "model": model,
            "dataset": dataset,
            "approvals": approvals,
            "reviewer_roles": roles,
            "gates_must_pass": not no_gates,
            "webhook": webhook,
            "webhook_secret_env": webhook_secret_env,
        }
        made = client().create_project(name, **fields)
        if as_json:
            print_json(made)
            return
        goal = f", target {made['target']}" if made["target"] else ""
        console().print(
            f"Created project {made['name']} (stage {made['stage']}{goal}). "
            f"`sluice project show {made['name']}` tells where it stands.",
            markup=False,
            soft_wrap=True,
        )

    run_command(body)


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List projects with their stage, target and owner."""

    def body() -> None:
        from sluice.cli.remote import client

        found = client().projects()
        if as_json:
            print_json(found)
            return
        rows = [
            (p["name"], p["stage"], p["target"] or "", p["owner"] or "", p["model"]) for p in found
        ]
        print_table(
            "Projects",
            ("name", "stage", "target", "owner", "model"),
            rows,
            empty="No projects yet: `sluice project create NAME --objective TEXT`.",
        )

    run_command(body)


@app.command()
def show(name: str = NAME_ARG, as_json: bool = JSON_OPTION) -> None:
    """Where a project stands: data, champion against the target, production, requests, monitors."""

    def body() -> None:
        from sluice.cli.remote import client

        s = client().project(name)
        if as_json:
            print_json(s)
            return
        p, policy = s["project"], s["project"]["policy"]
        lines = [
            f"Project {p['name']}: {p['objective']}",
            f"  stage      {p['stage']}",
            f"  owner      {p['owner'] or 'nobody named'}",
            f"  target     {p['target'] or 'none set'}",
            f"  data       {_data(s['data_versions'], p['dataset'])}",
            f"  champion   {_version(s['champion'], 'no champion yet')}",
            f"  production {_version(s['production'], 'nothing in production')}",
            f"  requests   {_requests(s['open_requests'])}",
            f"  monitors   {_monitors(s['monitors'])}",
            f"  policy     {policy['approvals']} approval(s) from "
            f"{', '.join(policy['reviewer_roles'])}"
            + ("; gates must have passed" if policy["gates_must_pass"] else ""),
        ]
        console().print("\n".join(lines), markup=False, soft_wrap=True)

    run_command(body)


@app.command()
def retire(name: str = NAME_ARG) -> None:
    """Mark a project retired (its history stays)."""

    def body() -> None:
        from sluice.cli.remote import client

        done = client().retire_project(name)
        console().print(f"Project {done['name']} is retired.", markup=False)

    run_command(body)


def _data(versions: list[dict], dataset: str) -> str:
    if not versions:
        return f"no version of dataset {dataset} yet"
    last = versions[-1]
    return f"{len(versions)} version(s) of {dataset}; latest {last['ref']} ({last['rows']:,} rows)"


def _version(line: dict | None, none: str) -> str:
    if line is None:
        return none
    text = line["uri"]
    metric = line.get("metric")
    if metric:
        text += f", {metric['name']} {metric['value']:.4g}"
        if "meets_target" in line:
            text += " (meets the target)" if line["meets_target"] else " (misses the target)"
    return text


def _requests(found: list[dict]) -> str:
    if not found:
        return "none open"
    return "; ".join(
        f"#{r['id']} v{r['version']} → {r['alias']} by {r['requester']}" for r in found
    )


def _monitors(found: list[dict]) -> str:
    if not found:
        return "none"
    return "; ".join(
        f"{m['name']}: {m['status']}"
        + (
            f" (alerts: {', '.join(m['alerts_in_latest_window'])})"
            if m["alerts_in_latest_window"]
            else ""
        )
        for m in found
    )
