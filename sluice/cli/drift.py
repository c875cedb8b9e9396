"""``sluice data drift``: is a current table still like its reference, column by column?

REFERENCE is held in memory: a dataset version of the local store or one file.
CURRENT is one file, compared in memory by ``dataset_drift``, or a partitioned
Parquet dataset, compared on a Dask cluster by ``dataset_drift_dask`` with the
same figures. Exit codes: 0 no dataset drift, 1 the dataset drifted, 2 an input
error. pandas, pyarrow and Dask load when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from sluice.cli.output import JSON_OPTION, console, escape, print_json, print_table, run_command

if TYPE_CHECKING:
    import pandas as pd

    from sluice.monitoring import ColumnDrift, DatasetDrift, DriftSettings

DATA_SUFFIXES = (".csv", ".gz", ".parquet", ".pq")
GLOB = set("*?[")
METHODS = {
    "wasserstein": "Wasserstein (normalized)",
    "jensen_shannon": "Jensen-Shannon",
    "ks": "Kolmogorov-Smirnov",
    "chi_squared": "chi-squared",
    "none": "not compared",
}


def register(app: typer.Typer) -> None:
    """Add ``drift`` to the ``sluice data`` app."""
    app.command("drift")(drift)


def drift(
    reference: str = typer.Argument(
        ...,
        metavar="REFERENCE",
        help="A dataset version NAME@VERSION (NAME: the latest) of the local store, or a CSV "
        "or Parquet file.",
    ),
    current: str = typer.Argument(
        ...,
        metavar="CURRENT",
        help="A CSV or Parquet file, compared in memory; or a folder or glob of Parquet "
        "files, compared on a Dask cluster.",
    ),
    dask: str | None = typer.Option(
        None,
        "--dask",
        metavar="ADDRESS",
        help="Compare on the Dask cluster at tcp://HOST:PORT, partition by partition. A "
        "folder or glob CURRENT uses $SLUICE_DASK_ADDRESS when this is not given.",
    ),
    p_value: float = typer.Option(
        0.05, "--p-value", min=0.0, max=1.0, help="Drift when a test's p is below."
    ),
    dataset_share: float = typer.Option(
        0.5,
        "--dataset-share",
        min=0.0,
        max=1.0,
        help="Data drift when this share of the columns drifted.",
    ),
    min_rows: int = typer.Option(30, "--min-rows", min=1, help="Fewer rows: not judged."),
    large_sample: int = typer.Option(
        1000,
        "--large-sample",
        min=1,
        help="Above this many rows on both sides, judge by effect size instead of p-value.",
    ),
    wasserstein: float = typer.Option(
        0.1,
        "--wasserstein",
        min=0.0,
        help="Numeric drift when the normalized Wasserstein distance is above (large samples).",
    ),
    jensen_shannon: float = typer.Option(
        0.1,
        "--jensen-shannon",
        min=0.0,
        help="Categorical drift when the Jensen-Shannon distance is above (large samples).",
    ),
    categorical: list[str] = typer.Option(
        [],
        "--categorical",
        metavar="COLUMNS",
        help="Compare these columns as categories (comma-separated, repeatable); "
        "numbers are numeric otherwise.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Compare every column CURRENT shares with REFERENCE; exit 1 when the dataset drifted.

    Numeric columns by the Kolmogorov-Smirnov test or, when both sides are large, the
    normalized Wasserstein distance; categorical ones by chi-squared or the
    Jensen-Shannon distance; p-values corrected for the number of columns. With --dask,
    or a folder or glob of Parquet files as CURRENT, CURRENT is compared on a Dask
    cluster (pip install 'sluice[dask]').
    """

    def body() -> int:
        from sluice.monitoring import DriftSettings

        settings = DriftSettings(
            p_value=p_value,
            dataset_share=dataset_share,
            min_rows=min_rows,
            large_sample=large_sample,
            wasserstein=wasserstein,
            jensen_shannon=jensen_shannon,
        )
        columns = [c.strip() for text in categorical for c in text.split(",") if c.strip()]
        if dask is not None or _partitioned(current):
            result = _on_cluster(reference, current, dask, columns, settings)
        else:
            result = _in_memory(reference, current, columns, settings)
        if as_json:
            print_json(result.to_dict())
        else:
            _print_drift(result, reference, current)
        return 1 if result.drifted else 0

    code = run_command(body)
    if code:
        raise typer.Exit(code)


def _in_memory(
    reference: str, current: str, categorical: list[str], settings: DriftSettings
) -> DatasetDrift:
    from sluice.data import read_table
    from sluice.monitoring import dataset_drift

    path = Path(current)
    if not path.is_file():
        raise _missing_current(current)
    frame = read_table(path)
    ref = _read_reference(reference)
    kinds = _kinds(categorical, _check_shared(ref.columns, frame.columns))
    return dataset_drift(ref, frame, kinds=kinds, settings=settings)


def _on_cluster(
    reference: str,
    current: str,
    address: str | None,
    categorical: list[str],
    settings: DriftSettings,
) -> DatasetDrift:
    """The current window checked first, then the cluster, then the reference read: every
    input error is said before the slow parts."""
    from sluice.data.cluster import connect, read_parquet_dataset
    from sluice.errors import ConfigError
    from sluice.monitoring import dataset_drift_dask

    if current.lower().endswith((".csv", ".csv.gz")):
        if GLOB & set(current):
            what, fix = "CSV files", "Convert them to Parquet, or pass one CSV file"
        else:
            what, fix = "the CSV file", "Convert it to Parquet, or drop --dask"
        raise ConfigError(
            f"Expected CURRENT to be Parquet on a Dask cluster; got {what} {current!r}. "
            f"{fix} to compare it in memory."
        )
    frame = read_parquet_dataset(current, "CURRENT")
    with connect(address) as client:
        ref = _read_reference(reference)
        known = _check_shared(ref.columns, frame.columns)
        kinds = _kinds(categorical, known)
        return dataset_drift_dask(ref, frame, kinds=kinds, settings=settings, cluster=client)


def _partitioned(text: str) -> bool:
    """A folder, a glob or an object-store URL: a partitioned dataset, for a cluster."""
    return "://" in text or bool(GLOB & set(text)) or Path(text).is_dir()


def _missing_current(text: str) -> Exception:
    from sluice.errors import DataFileNotFound

    return DataFileNotFound(
        f"Expected CURRENT to be a CSV or Parquet file, or a folder or glob of Parquet files; "
        f"{text!r} does not exist. Check the path (relative paths start from the current folder)."
    )


def _read_reference(text: str) -> pd.DataFrame:
    """A file when one is there; else a dataset version of the local store."""
    from sluice.data import read_table
    from sluice.errors import ConfigError, DataFileNotFound

    path = Path(text)
    if path.is_file():
        return read_table(path)
    if path.is_dir() or GLOB & set(text) or "://" in text:
        raise ConfigError(
            f"Expected REFERENCE to be one CSV or Parquet file or a dataset version "
            f"NAME@VERSION (it is held in memory); got {text!r}, a folder, glob or URL. Pass "
            "one file, or add the data with `sluice data add PATH --name NAME`."
        )
    looks_like_a_file = "@" not in text and text.lower().endswith(DATA_SUFFIXES)
    if looks_like_a_file or "/" in text or "\\" in text:
        raise DataFileNotFound(
            f"Expected REFERENCE to be a CSV or Parquet file or a dataset version NAME@VERSION; "
            f"there is no file {text!r}. Check the path, or name a version listed by "
            "`sluice data list`."
        )
    return _dataset_version(text)


def _dataset_version(ref: str) -> pd.DataFrame:
    from sluice.cli.remote import current
    from sluice.data import get_version, load_frame

    ws = current()
    try:
        return load_frame(ws, get_version(ws, ref))
    finally:
        ws.close()


def _check_shared(reference: Any, current: Any) -> list[str]:
    """Every column name of either side, once the two sides are known to share one."""
    from sluice.errors import DataError

    ref_names, cur_names = [str(c) for c in reference], [str(c) for c in current]
    if not set(ref_names) & set(cur_names):
        raise DataError(
            "Expected REFERENCE and CURRENT to share columns to compare; they share none "
            f"(REFERENCE: {_names(ref_names)}; CURRENT: {_names(cur_names)}). Compare two "
            "samples of the same table, or rename the columns to match."
        )
    return sorted(set(ref_names) | set(cur_names))


def _kinds(categorical: list[str], known: list[str]) -> dict[str, str]:
    """``--categorical`` as dataset_drift's kinds; a name of no column is refused."""
    from sluice.errors import ConfigError, did_you_mean

    for name in categorical:
        if name not in known:
            raise ConfigError(
                f"Expected --categorical to name columns of the data; {name!r} is in neither "
                f"REFERENCE nor CURRENT.{did_you_mean(name, known)}"
            )
    return dict.fromkeys(categorical, "categorical")


def _names(names: list[str], most: int = 5) -> str:
    shown = ", ".join(names[:most])
    return f"{shown}, and {len(names) - most} more" if len(names) > most else shown or "none"


def _print_drift(result: DatasetDrift, reference: str, current: str) -> None:
    rows = [
        (
            c.column,
            c.kind,
            METHODS.get(c.method, c.method),
            _fmt(_value(c)),
            _fmt(_p_value(c)),
            ("yes" if c.drifted else "no") if c.method != "none" else "",
        )
        for c in result.columns
    ]
    print_table(
        escape(f"Drift of {current} against {reference}"),
        ["column", "kind", "method", "value", "p-value", "drifted"],
        rows,
    )
    out = console()
    for c in result.columns:
        if c.method == "none":
            out.print(f"Not compared: {c.column} ({c.reason}).", markup=False)
    if result.only_in_reference:
        out.print(f"Only in REFERENCE: {', '.join(result.only_in_reference)}.", markup=False)
    if result.only_in_current:
        out.print(f"Only in CURRENT: {', '.join(result.only_in_current)}.", markup=False)
    compared = sum(c.method != "none" for c in result.columns)
    verdict = "[bold red]drifted[/]" if result.drifted else "[green]did not drift[/]"
    out.print(
        f"Drift: {len(result.drifted_columns)} of {compared} columns drifted "
        f"({result.share_drifted:.0%}); the dataset {verdict} at a share of "
        f"{result.threshold:.0%}."
    )


def _value(c: ColumnDrift) -> float | None:
    """The figure the verdict rests on: the effect size on large samples, else the test's."""
    return c.effect_size if c.method in ("wasserstein", "jensen_shannon") else c.statistic


def _p_value(c: ColumnDrift) -> float | None:
    return c.p_value_corrected if c.p_value_corrected is not None else c.p_value


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"
