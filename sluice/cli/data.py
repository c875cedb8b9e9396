"""``sluice data``: add, list, show, diff and validate dataset versions; drift (in ``drift.py``).

Only typer and the output helpers are imported here at start-up; the data
layer (pandas, pyarrow) loads when a command runs.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import typer

from sluice.cli import drift
from sluice.cli.output import (
    JSON_OPTION,
    console,
    escape,
    print_json,
    print_table,
    run_command,
)

if TYPE_CHECKING:
    from sluice.data import ValidationReport

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Version, profile, validate and compare datasets.",
)

TARGET_OPTION = typer.Option(None, "--target", help="The column to predict (sets role and task).")
TIME_OPTION = typer.Option(None, "--time-column", help="The column that orders rows in time.")


@app.command("add")
def add(
    path: str = typer.Argument(..., help="A CSV, .csv.gz or Parquet file."),
    name: str = typer.Option(..., "--name", "-n", help="The dataset's name."),
    target: str | None = TARGET_OPTION,
    time_column: str | None = TIME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a file as the next version of a dataset (the same bytes give the same version)."""

    def body() -> None:
        from sluice.cli.remote import client

        version = client().add_dataset(path, name, target=target, time_column=time_column)
        if as_json:
            print_json(version)
            return
        verb = "Added" if version["new"] else "Already recorded as"
        console().print(
            f"{verb} [bold]{version['ref']}[/]: {version['n_rows']:,} rows, "
            f"{version['n_cols']} columns, {_size(version['size_bytes'])}, "
            f"blake3 {version['content_hash'][:12]}"
        )

    run_command(body)


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Every dataset with its latest version."""

    def body() -> None:
        from sluice.cli.remote import client

        found = client().datasets()
        if as_json:
            print_json(found)
            return
        rows = [
            (
                d["name"],
                d["n_versions"],
                d["latest"]["ref"],
                f"{d['latest']['n_rows']:,}",
                d["latest"]["n_cols"],
                _size(d["latest"]["size_bytes"]),
                _when(d["latest"]["created_at"]),
            )
            for d in found
        ]
        print_table(
            "Datasets",
            ["name", "versions", "latest", "rows", "cols", "size", "added"],
            rows,
            empty="No datasets yet: add one with `sluice data add PATH --name NAME`.",
        )

    run_command(body)


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="NAME (latest version) or NAME@VERSION."),
    as_json: bool = JSON_OPTION,
) -> None:
    """A version's facts, schema and column statistics."""

    def body() -> None:
        from sluice.cli.remote import client

        version = client().dataset_version(ref)
        if as_json:
            print_json(version)
            return
        _print_version(version)

    run_command(body)


@app.command("diff")
def diff(
    a: str = typer.Argument(..., help="The first version, NAME@VERSION."),
    b: str = typer.Argument(..., help="The second version, NAME@VERSION."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Schema and statistics differences from A to B."""

    def body() -> None:
        from sluice.cli.remote import client

        result = client().dataset_diff(a, b)
        if as_json:
            print_json(result)
            return
        _print_diff(result)

    run_command(body)


@app.command("validate")
def validate(
    ref: str = typer.Argument(..., help="The version to check, NAME or NAME@VERSION."),
    against: str | None = typer.Option(
        None, "--against", help="Check against this version's schema and statistics."
    ),
    target: str | None = TARGET_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Report anomalies; exits 1 when any is an error."""

    def body() -> None:
        from sluice.cli.remote import client
        from sluice.data import ValidationReport

        found = client().validate_dataset(ref, against=against, target=target)
        report = ValidationReport.from_dict(found)
        if as_json:
            print_json(found)
        else:
            _print_report(found["ref"], found["against"], report)
        report.raise_for_errors(found["ref"])

    run_command(body)


drift.register(app)


def _print_version(v: dict[str, Any]) -> None:
    out = console()
    out.print(
        f"[bold]{v['ref']}[/]  {v['n_rows']:,} rows x {v['n_cols']} columns, "
        f"{_size(v['size_bytes'])}, {v['format']}, added {_when(v['created_at'])}"
    )
    out.print(f"blake3 {v['content_hash']}\nsource {escape(v['source_uri'])}")
    schema = v["schema"]
    if schema["target"]:
        out.print(f"target {escape(schema['target'])} ({schema['task']})")
    stats = v["profile"]["columns"]
    rows = [
        (
            c["name"],
            c["kind"],
            c["role"],
            f"{c['missing_share']:.1%}",
            c["n_unique"],
            _fmt(c["min"]),
            _fmt(c["max"]),
            _summary(stats.get(c["name"], {})),
        )
        for c in schema["columns"]
    ]
    columns = ["column", "kind", "role", "missing", "unique", "min", "max", "mean / top values"]
    print_table(None, columns, rows)


def _summary(stats: dict[str, Any]) -> str:
    if stats.get("mean") is not None:
        return f"mean {_fmt(stats['mean'])}, std {_fmt(stats.get('std'))}"
    top = stats.get("top") or []
    return ", ".join(f"{value} ({count:,})" for value, count in top[:3])


def _print_diff(result: dict[str, Any]) -> None:
    out = console()
    same = "identical bytes" if result["identical"] else "different bytes"
    rows = result["rows"]
    out.print(
        f"[bold]{result['a']}[/] -> [bold]{result['b']}[/]: {same}, "
        f"rows {rows['a']:,} -> {rows['b']:,}"
    )
    schema = result["schema"]
    lines = [("+ column", name, "", "") for name in schema["added"]]
    lines += [("- column", name, "", "") for name in schema["removed"]]
    lines += [(c["field"], c["column"], c["a"], c["b"]) for c in schema["changed"]]
    for column, changes in result["statistics"].items():
        for stat, change in changes.items():
            if stat == "categories":
                lines.append(("categories", column, f"-{change['removed']}", f"+{change['added']}"))
            else:
                lines.append((stat, column, _fmt(change["a"]), _fmt(change["b"])))
    if not lines:
        out.print("No schema or statistics differences.")
        return
    print_table(None, ["what", "column", result["a"], result["b"]], lines)


def _print_report(ref: str, against: str, report: ValidationReport) -> None:
    out = console()
    if report.anomalies:
        rows = [
            (a.severity.value, a.kind.value, a.column or "", a.message) for a in report.anomalies
        ]
        print_table(
            f"Validation of {ref} against {against}",
            ["severity", "kind", "column", "message"],
            rows,
        )
    verdict = "[green]passed[/]" if report.ok else "[bold red]failed[/]"
    out.print(
        f"{ref}: {verdict} with {len(report.errors)} error(s), {len(report.warnings)} warning(s)"
    )


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))
