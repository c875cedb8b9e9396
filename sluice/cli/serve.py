"""``sluice serve`` (the prediction app over HTTP) and ``sluice predict`` (batch scoring of files).

Both take a model URI: ``models:/NAME@ALIAS``, ``models:/NAME/VERSION`` or the short
``NAME@ALIAS``. Heavy imports (FastAPI, uvicorn, pandas, pyarrow) happen inside the
commands so that ``sluice --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from sluice.cli.output import console, print_json, run_command

URI_ARG = typer.Argument(
    ...,
    metavar="MODEL_URI",
    help="models:/NAME@ALIAS (followed on reload), models:/NAME/VERSION, or NAME@ALIAS.",
)
PREDICT_URI_ARG = typer.Argument(
    ..., metavar="MODEL_URI", help="models:/NAME@ALIAS, models:/NAME/VERSION, or NAME@ALIAS."
)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``predict`` to the top-level app."""
    app.command("serve")(serve)
    app.command("predict")(predict)
    app.command("package")(package)


def serve(
    uri: str = URI_ARG,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    workers: int = typer.Option(
        1,
        "--workers",
        help="Worker processes, each with its own model and log writer (use --poll with "
        "several: POST /admin/reload reaches one worker).",
    ),
    unknown_categories: str = typer.Option(
        "reject",
        "--unknown-categories",
        help="reject (422) or flag (predict and mark) a category unseen in training.",
    ),
    poll: float | None = typer.Option(
        None, "--poll", help="Re-resolve the alias every SECONDS and switch to a new version."
    ),
    flush_interval: float = typer.Option(
        1.0, "--flush-interval", help="Seconds between writes of the prediction log."
    ),
    max_batch_rows: int = typer.Option(
        256, "--max-batch-rows", help="Most records predicted in one call of the model."
    ),
    max_wait_ms: float = typer.Option(
        2.0,
        "--max-wait-ms",
        help="Longest wait to fill a batch under concurrent load (never at concurrency 1).",
    ),
    max_records: int = typer.Option(
        10_000, "--max-records", help="Most records accepted in one request (422 beyond)."
    ),
    no_log: bool = typer.Option(
        False, "--no-log", help="Do not write predictions to the prediction log."
    ),
    access_log: bool = typer.Option(False, "--access-log", help="Print one line per request."),
    trusted: bool = typer.Option(
        False, "--trusted", help="Load model types outside the safe allow-list."
    ),
) -> None:
    """Serve a model over HTTP: /predict, /feedback, /health, /ready, /metadata, /metrics.

    POST /admin/reload re-resolves the alias and switches to the version it names.
    """

    def body() -> None:
        from sluice.cli.remote import current
        from sluice.registry import load_model, resolve
        from sluice.serving.server import serve as run_server
        from sluice.serving.settings import ServeSettings

        settings = ServeSettings(
            uri=_uri(uri),
            host=host,
            port=port,
            workers=workers,
            unknown_categories=unknown_categories,
            poll=poll,
            flush_interval=flush_interval,
            max_batch_rows=max_batch_rows,
            max_wait_ms=max_wait_ms,
            max_records=max_records,
            log_predictions=not no_log,
            access_log=access_log,
            trusted=trusted,
        )
        ws = current()
        loaded = None
        if workers == 1:  # load once here: errors surface before the port is taken
            loaded = load_model(settings.uri, workspace=ws, trusted=trusted)
            version = loaded.version
        else:
            version = resolve(ws, settings.uri).version
        ws.close()
        console(stderr=True).print(
            f"Serving {settings.uri} (version {version}) on http://{host}:{port} "
            f"with {workers} worker(s); Ctrl-C to stop.",
            markup=False,
        )
        run_server(settings, loaded=loaded)

    run_command(body)


def predict(
    uri: str = PREDICT_URI_ARG,
    input_path: str = typer.Option(
        ...,
        "--input",
        "-i",
        help="CSV or Parquet file to score; or a folder, glob or URL (s3://…) of Parquet "
        "files, scored on a Dask cluster.",
    ),
    output_path: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="CSV or Parquet file to write (format by extension); a folder of Parquet parts "
        "when scoring on a cluster.",
    ),
    dask: str | None = typer.Option(
        None,
        "--dask",
        metavar="ADDRESS",
        help="Score on the Dask cluster at tcp://HOST:PORT, partition by partition. A folder "
        "or glob --input uses $SLUICE_DASK_ADDRESS when this is not given.",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    chunk_rows: int = typer.Option(
        100_000,
        "--chunk-rows",
        help="Rows read, predicted and written at a time (in one process; on a cluster, a "
        "Parquet file or row group at a time).",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print a JSON summary instead of the final line."
    ),
    trusted: bool = typer.Option(
        False, "--trusted", help="Load model types outside the safe allow-list."
    ),
) -> None:
    """Score a CSV or Parquet file in chunks: the input columns plus prediction (and proba:*).

    With --dask, or a folder or glob of Parquet files as input, the rows are scored on a
    Dask cluster (pip install 'sluice[dask]') into a folder of Parquet parts.
    """

    def body() -> None:
        from sluice.cli.remote import client

        api = client()  # on a team server, the model comes from it (hash-checked)
        try:
            loaded = api.load_model(_uri(uri), trusted=trusted)
            if dask is not None or _partitioned(input_path):
                from sluice.serving.batch_dask import score_parquet

                summary = score_parquet(
                    loaded, input_path, output_path, cluster=dask, overwrite=overwrite
                )
            else:
                from sluice.serving.batch import score_file

                with _progress(enabled=not as_json) as progress:
                    summary = score_file(
                        loaded,
                        Path(input_path),
                        output_path,
                        chunk_rows=chunk_rows,
                        overwrite=overwrite,
                        progress=progress,
                    )
        finally:
            api.close()
        if as_json:
            print_json(summary.to_dict())
            return
        console().print(
            f"Scored {summary.rows:,} rows with {summary.model} in {summary.seconds:.2f} s "
            f"({summary.rows_per_second:,.0f} rows/s) into {summary.output}.",
            markup=False,
        )

    run_command(body)


def _partitioned(text: str) -> bool:
    """A folder, a glob or a URL: a partitioned dataset, for a cluster, not ``score_file``."""
    return "://" in text or any(ch in text for ch in "*?[") or Path(text).is_dir()


def _uri(text: str) -> str:
    from sluice.registry import parse_ref, parse_uri

    return (parse_uri(text) if text.startswith("models:/") else parse_ref(text)).uri


class _progress:
    """A Rich progress bar on stderr when it is a terminal; a no-op callback otherwise."""

    def __init__(self, enabled: bool) -> None:
        import sys

        self.enabled = enabled and sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            TextColumn("scoring"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
            TimeElapsedColumn(),
            console=console(stderr=True),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("scoring", total=None)
        return self._update

    def _update(self, rows: int, total: int | None) -> None:
        self._bar.update(self._task, completed=rows, total=total)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def package(
    uri: str = PREDICT_URI_ARG,
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the bundle into."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a folder that has files."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a line."),
) -> None:
    """Bundle a model version to serve without sluice: model, signature, pinned
    requirements, a FastAPI entry point and a Dockerfile."""

    def body() -> None:
        from sluice.cli.remote import client

        bundle = client().package(uri, out, overwrite=overwrite)
        if as_json:
            print_json(bundle)
            return
        console().print(
            f"Packaged {bundle['uri']} into {bundle['folder']}: {', '.join(bundle['files'])}. "
            "Serve it with `pip install -r requirements.txt && python serve.py`, or build the "
            "Dockerfile.",
            markup=False,
            soft_wrap=True,
        )

    run_command(body)
