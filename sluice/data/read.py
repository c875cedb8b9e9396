"""Reading a data file (CSV, gzipped CSV, Parquet) into a table, with clear errors.

Files are parsed by pyarrow: it is multi-threaded, keeps column names exactly as
written (spaces, dots, non-ASCII letters), and only turns ISO-8601 looking text
into dates, so numeric codes such as ``20110101`` stay numbers.

Two choices keep the kernel out of the way when parsing a large CSV (measured
with ``benchmarks/bench_data.py`` on a 1 GB file): an uncompressed file is
memory-mapped rather than read into a fresh 1 GB buffer, and the parsed columns
come from the system allocator. With Arrow's default pool (mimalloc), the kernel
zeroed freshly faulted transparent huge pages for 4 to 12 CPU seconds per parse,
as long as pyarrow spent parsing; with these two choices it is 0.2 to 2 seconds.

Every failure a user can cause becomes a :class:`~sluice.errors.DataError`
naming the file, what was expected and what to do.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import io
import os
from collections import Counter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sluice.errors import DataFileNotFound, DataFormatError, EmptyData, did_you_mean

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

FORMATS = ("csv", "parquet")
_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_BLOCK = 1 << 24  # 16 MiB per CSV block: fewer, larger tasks parse faster
_DICT_MAX = 10_000  # distinct values per block up to which text is dictionary-encoded


def read_table(path: str | os.PathLike[str], *, format: str | None = None) -> pd.DataFrame:
    """A data file as a pandas DataFrame (CSV, .csv.gz or Parquet)."""
    return to_pandas(read_arrow(path, format=format))


def read_arrow(
    path: str | os.PathLike[str], *, format: str | None = None, dictionaries: bool = False
) -> pa.Table:
    """A data file as an Arrow table: the fast path for hashing and profiling.

    With ``dictionaries``, CSV text columns with few distinct values per block are
    dictionary-encoded while parsing: cheaper to parse and to count (profiling
    uses it; pandas users get plain strings from :func:`read_table`).
    """
    file = check_file(path)
    with open(file, "rb") as fh:
        head = fh.read(4)
    fmt = resolve_format(file.name, head, format)
    gzipped = head.startswith(_GZIP_MAGIC)
    table = _parse(str(file), fmt, gzipped, str(file), dictionaries)
    return _check(table, str(file), str(file), gzipped)


def check_file(path: str | os.PathLike[str]) -> Path:
    """The path, once known to be a non-empty file; DataFileNotFound or EmptyData otherwise."""
    file = Path(path)
    if not file.is_file():
        where = "a folder" if file.is_dir() else "nothing"
        raise DataFileNotFound(
            f"Expected a data file at {str(file)!r}; found {where} there. "
            "Check the path (relative paths start from the current folder)."
        )
    if file.stat().st_size == 0:
        raise EmptyData(f"Expected rows in {str(file)!r}; the file is empty (0 bytes).")
    return file


def read_arrow_bytes(data: bytes, *, format: str, label: str = "the data") -> pa.Table:
    """Parse stored bytes (a dataset version's artifact) the same way as a file."""
    import pyarrow as pa

    if not data:
        raise EmptyData(f"Expected rows in {label}; it is empty (0 bytes).")
    fmt = resolve_format(label, data[:4], format)
    gzipped = data.startswith(_GZIP_MAGIC)
    table = _parse(pa.BufferReader(data), fmt, gzipped, label)
    return _check(table, label, pa.BufferReader(data), gzipped)


def resolve_format(name: str, head: bytes, format: str | None) -> str:
    """'csv' or 'parquet', from the explicit format, the file name, or its first bytes."""
    if format is not None:
        fmt = format.lower().lstrip(".").removesuffix(".gz")
        if fmt not in FORMATS:
            raise DataFormatError(
                f"Expected format to be one of {', '.join(FORMATS)}; got {format!r}."
                f"{did_you_mean(fmt, FORMATS)}"
            )
        return fmt
    suffixes = [s.lower() for s in Path(name).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    raise DataFormatError(
        f"Expected a .csv, .csv.gz or .parquet file; got {name!r}, whose format is unknown. "
        "Rename it with the right extension, or pass the format explicitly (csv or parquet)."
    )


def _parse(
    source: Any, fmt: str, gzipped: bool, label: str, dictionaries: bool = False
) -> pa.Table:
    import pyarrow as pa

    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(source)
        return _read_csv(source, gzipped, dictionaries)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _translate(exc, source, fmt, gzipped, label) from exc
    except UnicodeDecodeError:  # a header that is not UTF-8
        raise _not_utf8(source, gzipped, label) from None


def _read_csv(source: Any, gzipped: bool, dictionaries: bool) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    with contextlib.ExitStack() as stack:
        stream = source
        if gzipped and isinstance(source, pa.NativeFile):
            stream = pa.CompressedInputStream(source, "gzip")
        elif gzipped:
            stream = stack.enter_context(pa.input_stream(source, compression="gzip"))
        elif isinstance(source, str):  # parsed straight from the page cache, never copied
            stream = stack.enter_context(pa.memory_map(source))
        return pcsv.read_csv(
            stream,
            memory_pool=pa.system_memory_pool(),
            read_options=pcsv.ReadOptions(block_size=_BLOCK),
            convert_options=pcsv.ConvertOptions(
                strings_can_be_null=True,
                auto_dict_encode=dictionaries,
                auto_dict_max_cardinality=_DICT_MAX,
            ),
        )


def _translate(exc: Exception, source: Any, fmt: str, gzipped: bool, label: str) -> Exception:
    text = str(exc)
    if "Empty CSV file" in text:
        return EmptyData(f"Expected a header and rows in {label!r}; the CSV has no content.")
    if fmt == "csv" and "UTF8" in text.upper().replace("-", ""):
        return _not_utf8(source, gzipped, label)
    what = "Parquet" if fmt == "parquet" else "CSV"
    text = text.rstrip(".")
    hint = (
        "Check that the file really is Parquet; a CSV file is read as one when its name "
        "ends in .csv or .csv.gz (or with format='csv' in Python)."
        if fmt == "parquet"
        else "Check the delimiter (a comma) and quoting, and that every row has the same fields."
    )
    return DataFormatError(
        f"Expected a readable {what} file in {label!r}; reading failed: {text}. {hint}"
    )


def _check(table: pa.Table, label: str, source: Any, gzipped: bool) -> pa.Table:
    try:
        names = table.column_names
    except UnicodeDecodeError:
        raise _not_utf8(source, gzipped, label) from None
    dupes = sorted(name for name, n in Counter(names).items() if n > 1)
    if dupes:
        raise DataFormatError(
            f"Expected unique column names in {label!r}; these appear more than once: "
            f"{', '.join(repr(d) for d in dupes)}. "
            "Rename them so that each column has its own name."
        )
    if not names:
        raise EmptyData(f"Expected columns in {label!r}; found none.")
    if table.num_rows == 0:
        raise EmptyData(
            f"Expected rows in {label!r}; found only a header ({len(names)} columns, 0 rows). "
            "Add data rows, or point at the right file."
        )
    binary = [f.name for f in table.schema if _is_binary(f.type)]
    if binary:
        raise _not_utf8(source, gzipped, label, column=binary[0])
    return table


def _is_binary(dtype: pa.DataType) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(dtype):
        return _is_binary(dtype.value_type)
    return bool(pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype))


def _not_utf8(source: Any, gzipped: bool, label: str, column: str | None = None) -> DataFormatError:
    """Find the first byte that is not UTF-8 so that the message can point at it."""
    where = _first_bad_byte(source, gzipped)
    place = f" at byte {where[0]} (line {where[1]})" if where else ""
    col = f" in column {column!r}" if column else ""
    return DataFormatError(
        f"Expected a UTF-8 encoded CSV in {label!r}; found a byte that is not UTF-8{place}{col}. "
        "Re-save the file as UTF-8 (for example: iconv -f latin1 -t utf-8 in.csv > out.csv, "
        "or in a spreadsheet 'Save as CSV UTF-8')."
    )


def _first_bad_byte(source: Any, gzipped: bool) -> tuple[int, int] | None:
    """(byte offset, 1-based line) of the first invalid UTF-8 byte, or None."""
    import pyarrow as pa

    with contextlib.ExitStack() as stack:
        raw: IO[bytes]
        if isinstance(source, pa.BufferReader):
            source.seek(0)
            raw = io.BytesIO(source.read())
        elif isinstance(source, str) and os.path.isfile(source):
            raw = stack.enter_context(open(source, "rb"))
        else:
            return None
        stream: Any = stack.enter_context(gzip.GzipFile(fileobj=raw)) if gzipped else raw
        return _scan_utf8(stream)
    return None  # pragma: no cover - mypy cannot see that the block always returns


def _scan_utf8(stream: IO[bytes]) -> tuple[int, int] | None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line = 0, 1
    while chunk := stream.read(1 << 20):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return offset + exc.start, line + chunk.count(b"\n", 0, exc.start)
        offset += len(chunk)
        line += chunk.count(b"\n")
    return None


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas keeping dates as datetime64 (not Python objects)."""
    return table.to_pandas(date_as_object=False)
