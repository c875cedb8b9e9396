"""Batch scoring of CSV and Parquet files in chunks, so a file larger than memory works.

The input is read a chunk at a time (pyarrow's streaming CSV reader, or a Parquet
file's record batches), each chunk is checked against the signature and predicted,
and the output is written incrementally to a temporary file beside the target,
renamed into place only when every row is done: a failed run leaves nothing behind.
Output = the input columns, then ``prediction`` and, for classifiers, ``proba:<class>``.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sluice.errors import (
    ConfigError,
    DataFileNotFound,
    DataFormatError,
    EmptyData,
    SignatureMismatch,
    did_you_mean,
)
from sluice.registry import LoadedModel
from sluice.serving.holder import classes_of
from sluice.serving.scoring import predict_frame

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
DEFAULT_CHUNK_ROWS = 100_000
Progress = Callable[[int, int | None], None]  # rows done, total rows when known


@dataclass(frozen=True)
class BatchSummary:
    """What a scoring run did."""

    model: str
    input: str
    output: str
    rows: int
    chunks: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"rows_per_second": round(self.rows_per_second, 1)}


def score_file(
    loaded: LoadedModel,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> BatchSummary:
    """Predict every row of ``input_path`` into ``output_path`` (formats by extension)."""
    source, target = Path(input_path), Path(output_path)
    in_format, out_format = _check_paths(source, target, overwrite)
    if chunk_rows < 1:
        raise ConfigError(f"Expected --chunk-rows to be 1 or more; got {chunk_rows}.")
    start = time.perf_counter()
    names, total, chunks = _open(source, in_format, loaded, chunk_rows)
    _check_columns(loaded, names, source)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    rows = n_chunks = 0
    try:
        with _Writer(tmp, out_format) as writer:
            for chunk in chunks:
                writer.write(_score_chunk(loaded, chunk, rows, source))
                rows += chunk.num_rows
                n_chunks += 1
                if progress is not None:
                    progress(rows, total)
        if rows == 0:
            raise EmptyData(f"Expected rows to score in {str(source)!r}; it has none.")
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return BatchSummary(
        loaded.uri, str(source), str(target), rows, n_chunks, time.perf_counter() - start
    )


def _check_paths(source: Path, target: Path, overwrite: bool) -> tuple[str, str]:
    if not source.is_file():
        raise DataFileNotFound(
            f"Expected --input to name an existing file; {str(source)!r} does not exist. "
            "Check the path."
        )
    in_format = _format(source, "--input")
    out_format = _format(target, "--output")
    if source.resolve() == target.resolve():
        raise ConfigError(
            f"Expected --output to differ from --input; both are {str(source)!r}. "
            "Write the predictions to another file."
        )
    if target.exists() and not overwrite:
        raise ConfigError(
            f"Expected --output to name a new file; {str(target)!r} exists. "
            "Pass --overwrite to replace it, or choose another path."
        )
    if not target.parent.is_dir():
        raise ConfigError(
            f"Expected the folder of --output to exist; {str(target.parent)!r} does not. "
            "Create it first."
        )
    return in_format, out_format


def _format(path: Path, option: str) -> str:
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise DataFormatError(
            f"Expected {option} to end in .csv, .parquet or .pq; got {path.name!r}. "
            "Convert the file or rename it to its real format."
        )
    return found


def _open(
    path: Path, fmt: str, loaded: LoadedModel, chunk_rows: int
) -> tuple[list[str], int | None, Iterator[Any]]:
    """Column names, the row count when known, and the chunks (pyarrow Tables)."""
    import pyarrow as pa

    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path)
            batches = pf.iter_batches(batch_size=chunk_rows)
            return pf.schema_arrow.names, pf.metadata.num_rows, _tables(batches, chunk_rows, path)
        import pyarrow.csv as pcsv

        reader = pcsv.open_csv(
            path, convert_options=pcsv.ConvertOptions(column_types=_csv_types(loaded))
        )
        return reader.schema.names, None, _tables(reader, chunk_rows, path)
    except pa.ArrowInvalid as exc:
        if "conversion error" in str(exc):
            raise _value_error(path, exc) from exc
        raise _unreadable(path, fmt, exc) from exc
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(path, fmt, exc) from exc


def _unreadable(path: Path, fmt: str, exc: Exception) -> DataFormatError:
    return DataFormatError(
        f"Expected a readable {'Parquet' if fmt == 'parquet' else 'CSV'} file at "
        f"{str(path)!r}; it could not be read ({str(exc).rstrip('.')}). Check the file and "
        "its extension."
    )


def _value_error(path: Path, exc: Exception) -> DataFormatError:
    """A value that does not parse as its column's type, with the column named."""
    import re

    column = ""
    found = re.search(r"CSV column #(\d+)", str(exc))
    if found:
        import csv

        with open(path, newline="", encoding="utf-8", errors="replace") as fh:
            header = next(csv.reader(fh), [])
        index = int(found.group(1))
        column = f" (column {header[index]!r})" if index < len(header) else ""
    return DataFormatError(
        f"Expected every value of {str(path)!r} to fit the model's column types{column}; "
        f"reading failed ({exc}). Fix the value, or send the column as the model was trained."
    )


def _csv_types(loaded: LoadedModel) -> dict[str, Any]:
    """Arrow types of the signature's columns, so every chunk reads them the same way."""
    import pyarrow as pa

    types = {"numeric": pa.float64(), "boolean": pa.bool_()}
    return {c.name: types.get(c.kind, pa.string()) for c in loaded.signature.columns}


def _tables(batches: Any, chunk_rows: int, path: Path) -> Iterator[Any]:
    """Tables of at most ``chunk_rows`` rows; read errors named with the file."""
    import pyarrow as pa

    iterator = iter(batches)
    while True:
        try:
            batch = next(iterator)
        except StopIteration:
            return
        except pa.ArrowException as exc:
            raise _value_error(path, exc) from exc
        for offset in range(0, batch.num_rows, chunk_rows):
            yield pa.Table.from_batches([batch.slice(offset, chunk_rows)])


def _check_columns(loaded: LoadedModel, names: list[str], path: Path) -> None:
    expected = loaded.signature.names
    missing = [n for n in expected if n not in names]
    clash = [n for n in names if n == "prediction" or n.startswith("proba:")]
    if missing:
        extra = [n for n in names if n not in expected]
        hints = "".join(did_you_mean(n, extra) for n in missing)
        raise SignatureMismatch(
            f"Expected {str(path)!r} to have every column of {loaded.uri}'s signature; missing: "
            f"{', '.join(repr(n) for n in missing)}.{hints} Add them (empty values are imputed)."
        )
    if clash:
        raise DataFormatError(
            f"Expected no input column named like an output column; {str(path)!r} has "
            f"{', '.join(repr(n) for n in clash)}. Rename or drop them."
        )


def _score_chunk(loaded: LoadedModel, table: Any, offset: int, path: Path) -> Any:
    import pyarrow as pa

    frame = table.select(loaded.signature.names).to_pandas()
    try:
        loaded.signature.check(frame)
    except SignatureMismatch as exc:
        raise SignatureMismatch(
            f"Rows {offset + 1} to {offset + table.num_rows} of {str(path)!r}: {exc}"
        ) from exc
    classes = classes_of(loaded)
    pred, proba = predict_frame(loaded.model, classes, frame)
    out = table.append_column("prediction", pa.array(pred))
    if proba is not None and classes is not None:
        for j, cls in enumerate(classes):
            out = out.append_column(f"proba:{cls}", pa.array(proba[:, j]))
    return out


class _Writer:
    """Append tables to one CSV or Parquet file, the schema fixed by the first table."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        self._writer: Any = None
        self._schema: Any = None

    def __enter__(self) -> _Writer:
        return self

    def write(self, table: Any) -> None:
        if self._writer is None:
            self._schema = table.schema
            self._writer = self._open(table.schema)
        elif table.schema != self._schema:
            table = table.cast(self._schema)
        self._writer.write_table(table) if self.fmt == "parquet" else self._writer.write(table)

    def _open(self, schema: Any) -> Any:
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetWriter(self.path, schema)
        import pyarrow.csv as pcsv

        return pcsv.CSVWriter(self.path, schema)

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
