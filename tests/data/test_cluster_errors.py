"""What the cluster paths say when a task, a connection or a file fails (no cluster needed)."""

from __future__ import annotations

from concurrent.futures import CancelledError
from types import SimpleNamespace

import pytest

from sluice.data.cluster import cluster_work, read_parquet_dataset
from sluice.errors import ConfigError, SignatureMismatch

pytest.importorskip("distributed")


def raised(exc: BaseException) -> str:
    with pytest.raises(Exception) as caught, cluster_work("scoring", "in/"):
        raise exc
    return f"{type(caught.value).__name__}: {caught.value}"


def test_each_failure_is_named_by_its_cause() -> None:
    from distributed import KilledWorker
    from distributed.comm import CommClosedError
    from pyarrow import ArrowInvalid

    last = SimpleNamespace(address="tcp://10.0.0.7:4001")  # the scheduler's WorkerState
    assert raised(KilledWorker("part-3", last, 3)).startswith(
        "ClusterError: Expected the cluster to finish scoring; Dask gave up on a task after "
        "the workers running it died ("
    )
    for lost in (CommClosedError("in <TCP>"), CancelledError("lost"), TimeoutError("30 s")):
        message = raised(lost)
        assert message.startswith("ClusterError: Expected the cluster to finish scoring; it")
        assert message.endswith(
            "Check that the scheduler and the workers still run, then run again."
        )
    assert raised(ArrowInvalid("Parquet magic bytes not found")) == (
        "DataFormatError: Expected every file of 'in/' to be readable Parquet; one could not "
        "be read while scoring (ArrowInvalid: Parquet magic bytes not found). Fix or remove "
        "that file, then run again."
    )
    assert raised(OSError(28, "No space left on device")) == (
        "DataError: Expected the files scoring reads and writes to be reachable from every "
        "worker; one was not (OSError: [Errno 28] No space left on device). The workers must "
        "see the input and the output folder at the same paths as this machine, with room "
        "and permission to write."
    )


def test_sluice_errors_and_bugs_pass_unchanged() -> None:
    with pytest.raises(SignatureMismatch, match="Partition 2"), cluster_work("scoring", "in/"):
        raise SignatureMismatch("Partition 2: missing 'hum'")
    with pytest.raises(KeyError), cluster_work("scoring", "in/"):
        raise KeyError("a bug, not the user's input")


def test_a_url_whose_driver_is_missing_says_what_to_install() -> None:
    pytest.importorskip("dask.dataframe")
    try:
        import gcsfs  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("gcsfs is installed here")
    with pytest.raises(ConfigError) as caught:
        read_parquet_dataset("gcs://bucket/scored/")
    message = str(caught.value)
    assert message.startswith("Expected to read 'gcs://bucket/scored/'; that needs a package")
    assert "gcsfs" in message and message.endswith("here and on every worker.")
