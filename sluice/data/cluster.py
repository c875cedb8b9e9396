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
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sluice.errors import (
    ClusterError,
    ConfigError,
    DataError,
    DataFileNotFound,
    DataFormatError,
    SluiceError,
)

ADDRESS_ENV = "SLUICE_DASK_ADDRESS"
INSTALL = "pip install 'sluice[dask]'"
CONNECT_TIMEOUT = "30s"
GLOB = set("*?[")
CSV_SUFFIXES = (".csv", ".csv.gz")
PROBE_SECONDS = 3.0


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
    check_scheduler(str(address))
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


@contextmanager
def cluster_work(doing: str, source: str) -> Iterator[None]:
    """Translate what a cluster's tasks raise into sluice errors that say what to do.

    A sluice error raised in a task (a partition that does not fit the model's
    signature, say) passes unchanged, as does anything not named here.
    """
    from concurrent.futures import CancelledError

    from distributed import KilledWorker
    from distributed.comm import CommClosedError
    from pyarrow import ArrowInvalid

    try:
        yield
    except SluiceError:
        raise
    except KilledWorker as exc:
        raise ClusterError(
            f"Expected the cluster to finish {doing}; Dask gave up on a task after the "
            f"workers running it died ({exc}). Check the workers' memory limits and logs, "
            "then run again."
        ) from exc
    except (CommClosedError, CancelledError, TimeoutError) as exc:
        raise ClusterError(
            f"Expected the cluster to finish {doing}; it stopped answering "
            f"({type(exc).__name__}: {exc}). Check that the scheduler and the workers still "
            "run, then run again."
        ) from exc
    except ArrowInvalid as exc:
        raise DataFormatError(
            f"Expected every file of {source!r} to be readable Parquet; one could not be read "
            f"while {doing} ({type(exc).__name__}: {str(exc).rstrip('.')}). Fix or remove "
            "that file, then run again."
        ) from exc
    except OSError as exc:
        raise DataError(
            f"Expected the files {doing} reads and writes to be reachable from every worker; "
            f"one was not ({type(exc).__name__}: {exc}). The workers must see the input and "
            "the output folder at the same paths as this machine, with room and permission "
            "to write."
        ) from exc


def check_scheduler(address: str) -> None:
    """Refuse at once an address Dask cannot speak to, or where nothing listens.

    Dask's client would retry a refused connection until its timeout, and a
    scheme it does not know (the dashboard's ``http://``, say) fails deep inside
    it; both are the user's to fix, so both are said plainly and at once.
    """
    require_dask()
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address, strict=False)
    if scheme not in registry.backends:
        web = ""
        if scheme in ("http", "https"):
            web = " That is a web address: the dashboard's, not the scheduler's."
        raise ClusterError(
            f"Expected the address of a Dask scheduler, such as tcp://HOST:8786; got "
            f"{address!r}, whose scheme {scheme!r} Dask does not speak.{web} Use the address "
            "`dask scheduler` prints as 'Scheduler at:'."
        )
    if scheme not in ("tcp", "tls"):
        return
    try:
        host, port = parse_host_port(location)
    except ValueError as exc:
        raise ClusterError(
            f"Expected the address of a Dask scheduler, such as tcp://HOST:8786; got "
            f"{address!r} ({exc}). Use the address `dask scheduler` prints as 'Scheduler at:'."
        ) from exc
    try:
        socket.create_connection((host, port), timeout=PROBE_SECONDS).close()
    except ConnectionRefusedError as exc:
        raise ClusterError(
            f"Expected a Dask scheduler at {address!r}; nothing listens there (connection "
            "refused). Start one with `dask scheduler`, or check the address."
        ) from exc
    except socket.gaierror as exc:
        raise ClusterError(
            f"Expected a Dask scheduler at {address!r}; the host {host!r} is unknown "
            f"({exc.strerror}). Check the address."
        ) from exc
    except OSError:
        return  # slow or filtered: the client waits its own timeout and says so


def read_parquet_dataset(source: str | os.PathLike[str], option: str = "--input") -> Any:
    """A lazy ``dask.dataframe`` of a folder of Parquet files, a glob, or one file.

    Each file (or large row group) is one partition, so a worker holds one piece
    at a time however large the dataset. A local path is made absolute, since the
    workers do not share the caller's working directory.
    """
    require_dask()
    import dask.dataframe as dd

    from sluice.artifacts.remote import backend_errors

    text = os.fspath(source)
    remote = "://" in text
    target = text if remote else _local(text, option)
    try:
        return dd.read_parquet(target)
    except ImportError as exc:  # the fsspec driver of the URL's scheme
        raise ConfigError(
            f"Expected to read {text!r}; that needs a package that is not installed ({exc}). "
            "Install it (for s3://, pip install 'sluice[s3]') here and on every worker."
        ) from exc
    except FileNotFoundError as exc:
        raise DataFileNotFound(
            f"Expected {option} to name Parquet files; {text!r} does not exist. Check the "
            "path or URL."
        ) from exc
    except backend_errors() as exc:
        if remote or not isinstance(exc, OSError):
            raise DataError(
                f"Expected {option} to be readable at {text!r}; got {type(exc).__name__}: "
                f"{str(exc.__cause__ or exc).rstrip('.')}. Check the URL and the credentials "
                "(for s3://, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) "
                "here and on every worker."
            ) from exc
        raise _unreadable(text, option, exc) from exc
    except ValueError as exc:
        raise _unreadable(text, option, exc) from exc


def _unreadable(text: str, option: str, exc: BaseException) -> DataFormatError:
    reason = str(exc.__cause__ or exc).rstrip(".")  # Dask wraps pyarrow's own words
    return DataFormatError(
        f"Expected {option} to hold readable Parquet files; {text!r} could not be read "
        f"({reason}). Check the files, or convert them to Parquet."
    )


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
        if path.name.lower().endswith(CSV_SUFFIXES):
            raise DataFormatError(
                f"Expected {option} to be Parquet on a Dask cluster; got the CSV file {text!r}. "
                "Convert it to Parquet, or work on it in one process (without --dask)."
            )
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
