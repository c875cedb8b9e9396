"""``sluice models``: registered models, their versions, aliases and cards."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer

from sluice.cli.output import JSON_OPTION, console, print_json, print_table, run_command

app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Registered models, versions and aliases."
)

REF_ARG = typer.Argument(
    ..., metavar="NAME[/VERSION|@ALIAS]", help="A model, one of its versions, or an alias."
)


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List registered models with their latest version and aliases."""

    def body() -> None:
        from sluice.cli.remote import client

        models = client().models()
        if as_json:
            print_json(models)
            return
        rows = [
            (
                m["name"],
                m["n_versions"],
                m["latest_version"],
                _aliases(m["aliases"]),
                _when(m["created_at"]),
            )
            for m in models
        ]
        print_table(
            "Registered models",
            ["name", "versions", "latest", "aliases", "created"],
            rows,
            empty="No registered models yet. Run `sluice run` to train and register one.",
        )

    run_command(body)


@app.command()
def show(ref: str = REF_ARG, as_json: bool = JSON_OPTION) -> None:
    """Show everything stored about a version: params, metrics, lineage, environment, gates."""

    def body() -> None:
        from sluice.cli.remote import client

        wanted = _parse(ref)
        mv = client().version(wanted.name, wanted.version, alias=wanted.alias)
        if as_json:
            print_json(mv)
            return
        _print_version(mv)

    run_command(body)


@app.command()
def promote(
    name: str = typer.Argument(..., help="The registered model."),
    version: int = typer.Argument(..., help="The version the alias should point at."),
    alias: str = typer.Option(..., "--alias", "-a", help="The alias to move, e.g. champion."),
) -> None:
    """Point an alias at a version (it leaves whatever version it was on)."""

    def body() -> None:
        from sluice.cli.remote import client

        mv = client().set_alias(name, version, alias)
        before = mv["previous"]
        was = f" (was version {before})" if before is not None else " (new alias)"
        console().print(f"{mv['uri']} is now {mv['name']}@{alias}{was}.", markup=False)

    run_command(body)


@app.command()
def request(
    name: str = typer.Argument(..., help="The registered model."),
    version: int = typer.Argument(..., help="The version the alias should point at."),
    alias: str = typer.Option("production", "--alias", "-a", help="The protected alias."),
    reason: str = typer.Option(..., "--reason", "-r", help="Why, for the reviewers."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Ask for an alias (production) to move to a version; others approve or reject it."""

    def body() -> None:
        from sluice.cli.remote import client

        made = client().request(name, version, alias, reason)
        if as_json:
            print_json(made)
            return
        console().print(
            f"Request {made['id']}: models:/{made['model']}/{made['version']} as {made['alias']}, "
            f"asked by {made['requester']}; needs {made['approvals_needed']} approval(s) from "
            f"someone else (`sluice review {made['id']} approve|reject --comment TEXT`).",
            markup=False,
            soft_wrap=True,
        )

    run_command(body)


@app.command()
def card(
    ref: str = REF_ARG,
    fmt: str = typer.Option("md", "--format", "-f", help="md, html or json."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the card to FILE."),
) -> None:
    """Print or write the model card of a version (Markdown, HTML or JSON): data, metrics,
    gates, who registered and approved it, and its monitoring status."""

    def body() -> None:
        import sys

        from sluice.artifacts.local import atomic_write
        from sluice.cli.remote import client
        from sluice.errors import ConfigError
        from sluice.reports.model_card import check_format

        check_format(fmt)  # before any call
        api = client()
        wanted = _parse(ref)
        version = wanted.version
        if version is None:
            version = api.version(wanted.name, alias=wanted.alias)["version"]
        text = api.card(wanted.name, version, fmt)
        if out is None:
            sys.stdout.write(text)
            return
        try:
            atomic_write(out, text.encode())
        except OSError as exc:
            raise ConfigError(
                f"Expected --out to name a file that can be written; got {str(out)!r} "
                f"({exc.strerror or exc}). Choose another path."
            ) from exc
        console(stderr=True).print(
            f"Wrote the card of models:/{wanted.name}/{version} to {out}.", markup=False
        )

    run_command(body)


# -- helpers -------------------------------------------------------------------------


def _parse(ref: str) -> Any:
    from sluice.registry import parse_ref, parse_uri

    return parse_uri(ref) if ref.startswith("models:/") else parse_ref(ref)


def _print_version(mv: Mapping[str, Any]) -> None:
    env, data, gates = mv["environment"] or {}, mv["training_data"], mv["gates"]
    dataset = f"{data['name']}@{data['version']} ({data['content_hash'][:12]})" if data else None
    dirty = {True: " (dirty)", False: "", None: " (dirty: unknown)"}[mv["git_dirty"]]
    git = f"{mv['git_commit']}{dirty}" if mv["git_commit"] else None
    duration = mv["duration"]
    facts = [
        ("uri", mv["uri"]),
        ("aliases", ", ".join(mv["aliases"]) or "-"),
        ("registered", _when(mv["created_at"])),
        ("flavor", mv["flavor"]),
        ("artifact", mv["artifact_hash"]),
        ("data version", dataset or mv["dataset_version_id"]),
        ("pipeline run", mv["pipeline_run_id"]),
        ("tracked run", mv["run_id"]),
        ("git", git),
        ("seed", mv["seed"]),
        ("duration", f"{duration:.2f} s" if duration is not None else None),
        ("python", f"{env.get('python')} on {env.get('platform')}"),
        ("packages", ", ".join(f"{k} {v}" for k, v in (env.get("packages") or {}).items())),
    ]
    print_table(f"{mv['name']} version {mv['version']}", ["field", "value"], facts)
    metrics = mv["metrics"].items()
    print_table("Metrics", ["metric", "value"], [(k, _num(v)) for k, v in metrics])
    print_table("Params", ["param", "value"], sorted(mv["params"].items()))
    if gates:
        rows = [
            (
                g["gate"],
                "passed" if g["passed"] else "FAILED",
                _num(g["observed"]),
                _num(g["threshold"]),
                g["reason"],
            )
            for g in gates
        ]
        print_table("Gates", ["gate", "verdict", "observed", "threshold", "reason"], rows)


def _aliases(aliases: Mapping[str, int]) -> str:
    return ", ".join(f"{alias}={version}" for alias, version in sorted(aliases.items()))


def _when(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")


def _num(value: Any) -> str:
    if value is None:
        return ""
    return (
        f"{value:.4g}"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else str(value)
    )
