"""A Dask cluster to run on, and a partitioned Parquet dataset read lazily on it.

Dask is the optional extra ``sluice[dask]``: it is imported here, on first use, so
that the rest of sluice works without it. A cluster is named by its scheduler's
address (``tcp://host:port``), by ``SLUICE_DASK_ADDRESS`` when no address is given,
or passed as an existing ``distributed.Client`` (which is then left open).

The workers read the Parquet files themselves, by path: the dataset must be where
every worker can reach it (a shared file system, or an object store URL).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sluice.errors import ClusterError, ConfigError, DataFileNotFound, DataFormatError

ADDRESS_ENV = "SLUICE_DASK_ADDRESS"
INSTALL = "pip install 'sluice[dask]'"
CONNECT_TIMEOUT = "30s"
GLOB = set("*?[")


def require_dask() -> None:
    """Import Dask's dataframe and distributed packages, or say how to install them."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ClusterError(
            f"Expected Dask to be installed to run on a cluster; it is not ({exc}). "
            f"Install the extra: {INSTALL}"
        ) from exc


@contextmanager
def connect(cluster: Any = None) -> Iterator[Any]:
    """A ``distributed.Client``: ``cluster`` itself when it is one, else one connected to
    the address ``cluster`` or ``$SLUICE_DASK_ADDRESS`` (and closed on leaving)."""
    require_dask()
    from distributed import Client

    if isinstance(cluster, Client):
        yield cluster
        return
    address = cluster or os.environ.get(ADDRESS_ENV)
    if not address:
        raise ConfigError(
            "Expected the address of a Dask scheduler (tcp://host:port); got none. "
            f"Pass --dask ADDRESS or set {ADDRESS_ENV}."
        )
    try:
        client = Client(str(address), timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"Expected a Dask scheduler at {str(address)!r}; could not connect ({exc}). "
            "Start one with `dask scheduler`, or check the address."
        ) from exc
    try:
        yield client
    finally:
        client.close()


def read_parquet_dataset(source: str | os.PathLike[str], option: str = "--input") -> Any:
    """A lazy ``dask.dataframe`` of a folder of Parquet files, a glob, or one file.

    Each file (or large row group) is one partition, so a worker holds one piece
    at a time however large the dataset. A local path is made absolute, since the
    workers do not share the caller's working directory.
    """
    require_dask()
    import dask.dataframe as dd

    text = os.fspath(source)
    target = text if "://" in text else _local(text, option)
    try:
        return dd.read_parquet(target)
    except (OSError, ValueError) as exc:
        raise DataFormatError(
            f"Expected {option} to hold readable Parquet files; {text!r} could not be read "
            f"({exc}). Check the files, or convert them to Parquet."
        ) from exc


def _local(text: str, option: str) -> str:
    """The absolute path or glob of a local dataset, checked to name Parquet files."""
    path = Path(text).expanduser().absolute()
    if GLOB & set(text):
        matched = sorted(path.parent.glob(path.name)) if path.parent.is_dir() else []
        if not matched:
            raise DataFileNotFound(
                f"Expected {option} to match Parquet files; {text!r} matches none. "
                "Check the pattern."
            )
        return str(path)
    if path.is_file():
        return str(path)
    if not path.is_dir():
        raise DataFileNotFound(
            f"Expected {option} to name a folder of Parquet files, a glob or a file; "
            f"{text!r} does not exist. Check the path."
        )
    if not any(path.rglob("*.parquet")) and not any(path.rglob("*.pq")):
        raise DataFileNotFound(
            f"Expected {option} to hold Parquet files (*.parquet); the folder {text!r} has "
            "none. Write the data as Parquet, or name the folder that holds it."
        )
    return str(path)
