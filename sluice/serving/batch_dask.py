"""Batch scoring of a partitioned Parquet dataset on a Dask cluster.

The same scoring as :func:`sluice.serving.batch.score_file`, partition by
partition: each worker reads one file (or row group) at a time, checks it against
the signature, predicts and writes its own Parquet part, so a worker's memory is
bounded by a partition whatever the dataset's size. The model is loaded here, on
the client, under the registry's rules (hash-checked, no pickle unless trusted),
and the loaded object is sent once to every worker. The output is a folder of
Parquet parts written beside the target and renamed into place when every part is
done: a failed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from sluice.data.cluster import cluster_work, connect, read_parquet_dataset
from sluice.errors import ConfigError, EmptyData, SignatureMismatch
from sluice.registry import LoadedModel
from sluice.serving.batch import BatchSummary, _check_columns, _score_chunk


def score_parquet(
    loaded: LoadedModel,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    cluster: Any = None,
    overwrite: bool = False,
) -> BatchSummary:
    """Predict every row of a Parquet folder, glob or file into the folder ``output_path``.

    ``cluster`` is a scheduler address (``tcp://host:port``), a ``distributed.Client``,
    or None for ``$SLUICE_DASK_ADDRESS``. ``chunks`` in the summary counts partitions.
    """
    source, target = os.fspath(input_path), Path(output_path).absolute()
    _check_target(target, overwrite)
    start = time.perf_counter()
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    with connect(cluster) as client:
        future = None
        try:
            with cluster_work("scoring", source):
                frame = read_parquet_dataset(source)
                _check_columns(loaded, [str(c) for c in frame.columns], Path(source))
                model = client.scatter(loaded, broadcast=True, hash=False)
                meta = _meta(client, frame, loaded, source)
                scored = frame.map_partitions(_score_partition, _delayed(model), source, meta=meta)
                write = scored.to_parquet(
                    tmp, write_index=False, compute=False, name_function=_part_name
                )
                future = client.compute(write)
                future.result()
            rows = _rows(tmp)
            if rows == 0:
                raise EmptyData(f"Expected rows to score in {source!r}; it has none.")
            _replace(tmp, target)
        finally:
            if future is not None:
                with contextlib.suppress(Exception):
                    future.cancel()  # the other partitions' tasks, when one failed
            with contextlib.suppress(OSError):  # never in place of the error that got here
                _remove(tmp)
    seconds = time.perf_counter() - start
    return BatchSummary(loaded.uri, source, str(target), rows, frame.npartitions, seconds)


def _part_name(number: int) -> str:
    """Zero-padded, so that the parts list in the input's order."""
    return f"part-{number:05d}.parquet"


def _replace(tmp: Path, target: Path) -> None:
    """Move the finished output into place; an old one is moved aside first and removed
    last, so that no moment holds neither."""
    if not target.exists():
        os.replace(tmp, target)
        return
    aside = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.old")
    os.replace(target, aside)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(aside, target)  # the old output back where it was
        raise
    with contextlib.suppress(OSError):  # the new output is in place: the run succeeded
        _remove(aside)


def _remove(path: Path, seconds: float = 10.0) -> None:
    """Remove a file or folder, while a cancelled task may still be writing into it."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _check_target(target: Path, overwrite: bool) -> None:
    if target.exists() and not overwrite:
        raise ConfigError(
            f"Expected --output to name a new folder; {str(target)!r} exists. "
            "Pass --overwrite to replace it, or choose another path."
        )
    if not target.parent.is_dir():
        raise ConfigError(
            f"Expected the folder of --output to exist; {str(target.parent)!r} does not. "
            "Create it first."
        )


def _delayed(future: Any) -> Any:
    """A future as an argument of ``map_partitions``, which passes plain futures unresolved."""
    import dask

    return dask.delayed(future)


def _score_partition(
    frame: Any, loaded: LoadedModel, source: str, partition_info: dict[str, Any] | None = None
) -> Any:
    """One partition through ``score_file``'s own chunk scoring, as a pandas frame.

    Under one OpenMP thread: several workers share a machine's cores, and a model
    that starts a thread per core in each of them (histogram boosting does) spins
    more than it computes.
    """
    import pyarrow as pa

    from sluice.models.threads import openmp_threads

    number = partition_info["number"] if partition_info else 0
    table = pa.Table.from_pandas(frame, preserve_index=False)
    try:
        with openmp_threads(1):
            return _score_chunk(loaded, table, 0, Path(source)).to_pandas()
    except SignatureMismatch as exc:
        raise SignatureMismatch(f"Partition {number}: {exc}") from exc


def _meta(client: Any, frame: Any, loaded: LoadedModel, source: str) -> Any:
    """The output's empty frame, from scoring the first rows here: a wrong signature
    shows before any worker starts."""
    for number in range(frame.npartitions):
        head = client.compute(frame.partitions[number].head(2, compute=False)).result()
        if len(head):
            return _score_partition(head, loaded, source, {"number": number}).iloc[:0]
    raise EmptyData(f"Expected rows to score in {source!r}; it has none.")


def _rows(folder: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("*.parquet"))
