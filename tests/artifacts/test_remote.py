"""The fsspec artifact store against a real S3 server: moto's, as its own process on loopback."""

from __future__ import annotations

import importlib
import os
import pickle
import socket
import subprocess
import sys
import time
import tracemalloc
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest

from sluice.artifacts import (
    FsspecArtifactStore,
    LocalArtifactStore,
    check_artifact_store,
    content_hash,
    hash_file,
)
from sluice.config import Settings
from sluice.data import add_version, load_frame, read_table
from sluice.errors import ArtifactCorrupted, ArtifactError, ArtifactStoreUnavailable
from sluice.pipelines import Status, get_run
from sluice.workspace import Workspace
from tests.data.conftest import BIKE_CSV_GZ
from tests.pipelines.conftest import WriteModule, write_module  # noqa: F401 - a fixture

MOTO_SERVER = Path(sys.executable).with_name("moto_server")
ROOT = Path(__file__).resolve().parents[2]
MiB = 1 << 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server in a process of its own, answering on a free loopback port."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log_path, "wb") as log:  # the child keeps its own copy
        proc = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"moto_server exited with {proc.returncode}:\n" + _tail(log_path)
                )
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not answer:\n" + _tail(log_path)) from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:]


@pytest.fixture(autouse=True)
def aws_env(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and moto's endpoint, through the variables a user would set."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def s3(endpoint: str) -> Any:
    """A client of our own, to look at and tamper with what the store wrote."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"sluice-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    return name


def _keys(s3: Any, bucket: str) -> set[str]:
    listing = s3.list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


def _pending_uploads(s3: Any, bucket: str) -> list[Any]:
    return list(s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def test_s3_store_passes_the_contract_with_the_local_layout(s3: Any, bucket: str) -> None:
    store = FsspecArtifactStore(f"s3://{bucket}/team/artifacts/")
    check_artifact_store(store)
    address = store.put_bytes(b"bikes")
    assert str(store) == f"s3://{bucket}/team/artifacts"
    assert f"team/artifacts/{address[:2]}/{address[2:]}" in _keys(s3, bucket)
    marker = s3.get_object(Bucket=bucket, Key="team/artifacts/FORMAT")["Body"].read()
    assert marker == b"sluice-artifacts 1\n"
    assert s3.get_object(Bucket=bucket, Key=f"team/artifacts/{address[:2]}/{address[2:]}")[
        "Body"
    ].read() == (b"bikes")


def test_a_corrupted_object_raises_instead_of_returning_wrong_bytes(s3: Any, bucket: str) -> None:
    store = FsspecArtifactStore(f"s3://{bucket}/p")
    address = store.put_bytes(b"the real model")
    s3.put_object(Bucket=bucket, Key=f"p/{address[:2]}/{address[2:]}", Body=b"the evil model")
    with pytest.raises(ArtifactCorrupted) as info:
        store.get_bytes(address)
    assert str(info.value) == (
        f"Artifact {address} in s3://{bucket}/p is corrupted: its bytes hash to "
        f"{content_hash(b'the evil model')}. Restore it from a backup or re-run the step that "
        "produced it."
    )


@pytest.mark.slow
def test_a_large_file_streams_up_in_parts_and_round_trips(
    s3: Any, bucket: str, tmp_path: Path
) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(96 * MiB))
    store = FsspecArtifactStore(f"s3://{bucket}/p")
    store.fs.default_block_size = 5 * MiB  # S3's smallest part: a multipart upload of ~20 parts
    tracemalloc.start()
    try:
        address = store.put_file(src)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert address == hash_file(src)
    assert peak < 48 * MiB, f"put_file held {peak / MiB:.0f} MiB of a 96 MiB file"
    head = s3.head_object(Bucket=bucket, Key=f"p/{address[:2]}/{address[2:]}")
    assert head["ContentLength"] == 96 * MiB
    assert "-" in head["ETag"], "expected a multipart upload's ETag"
    assert store.get_bytes(address) == src.read_bytes()
    assert store.put_file(src) == address  # already there: skipped
    assert _pending_uploads(s3, bucket) == []


@pytest.mark.parametrize("size", [1000, 12 * MiB], ids=["one-put", "multipart"])
def test_a_file_that_changes_while_uploaded_leaves_nothing(
    s3: Any, bucket: str, tmp_path: Path, size: int
) -> None:
    src = tmp_path / "growing.bin"
    src.write_bytes(os.urandom(size))
    stale = content_hash(b"what the file held when it was hashed")
    store = FsspecArtifactStore(f"s3://{bucket}/p")
    store.fs.default_block_size = 5 * MiB
    with pytest.raises(ArtifactError, match=r"changed after it was hashed .* Nothing was stored"):
        store._write_file(stale, src)
    assert not store.exists(stale)
    assert _keys(s3, bucket) == {"p/FORMAT"}
    assert _pending_uploads(s3, bucket) == [], "the multipart upload must be aborted"


def test_other_filesystems_write_under_a_temporary_name_then_move(tmp_path: Path) -> None:
    """file:// through fsspec: the same layout the local store reads, no temporary files left."""
    store = FsspecArtifactStore(f"file://{tmp_path}/store")
    check_artifact_store(store)
    src = tmp_path / "data.bin"
    src.write_bytes(os.urandom(3 * MiB))
    address = store.put_file(src)
    assert LocalArtifactStore(tmp_path / "store").get_bytes(address) == src.read_bytes()
    assert (tmp_path / "store" / "FORMAT").read_text() == "sluice-artifacts 1\n"
    with pytest.raises(ArtifactError, match="changed after it was hashed"):
        store._write_file(content_hash(b"stale"), src)
    assert not store.exists(content_hash(b"stale"))
    assert not list((tmp_path / "store").rglob(".tmp-*")), "no temporary files may remain"


def test_the_store_pickles_as_its_url(bucket: str) -> None:
    store = FsspecArtifactStore(f"s3://{bucket}/p")
    address = store.put_bytes(b"shared")
    again = pickle.loads(pickle.dumps(store))
    assert again is not store and repr(again) == f"FsspecArtifactStore('s3://{bucket}/p')"
    assert again.get_bytes(address) == b"shared"


PIPELINE = """
    from sluice.pipelines import pipeline, step


    @step
    def squares(n: int) -> list:
        return [i * i for i in range(n)]


    @step
    def total(values: list) -> dict:
        return {"sum": sum(values), "count": len(values)}


    @pipeline
    def sums(n: int = 10):
        return {"total": total(squares(n))}
"""


def test_a_workspace_on_s3_adds_a_dataset_and_runs_a_pipeline(
    s3: Any,
    bucket: str,
    tmp_path: Path,
    write_module: WriteModule,  # noqa: F811 - the fixture imported above
) -> None:
    home = tmp_path / "home"
    settings = Settings(
        home=home, db_url=f"sqlite:///{home / 'sluice.db'}", artifacts=f"s3://{bucket}/ws"
    )
    ws = Workspace(settings)
    try:
        assert isinstance(ws.artifacts, FsspecArtifactStore)
        version = add_version(ws, BIKE_CSV_GZ, "bikes", target="cnt")
        key = f"ws/{version.artifact_hash[:2]}/{version.artifact_hash[2:]}"
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == BIKE_CSV_GZ.stat().st_size
        pd.testing.assert_frame_equal(load_frame(ws, "bikes@1"), read_table(BIKE_CSV_GZ))

        sums = write_module(PIPELINE).sums
        run = sums.run(ws, n=10)
        assert run.status is Status.COMPLETED
        assert run.output("total") == {"sum": 285, "count": 10}
        outputs = {h for s in run.steps for h in s.outputs.values()}
        assert len(outputs) == 2
        assert {f"ws/{h[:2]}/{h[2:]}" for h in outputs} <= _keys(s3, bucket)
        again = sums.run(ws, n=10)
        assert [s.status for s in again.steps] == [Status.CACHED, Status.CACHED]
    finally:
        ws.close()

    reopened = Workspace(pickle.loads(pickle.dumps(settings)))  # as a worker does
    try:
        assert get_run(reopened, run.id).output("total") == {"sum": 285, "count": 10}
    finally:
        reopened.close()


def test_a_fresh_process_opens_the_store_from_the_environment_alone(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SLUICE_ARTIFACTS", f"s3://{bucket}/ws")
    monkeypatch.delenv("SLUICE_DB_URL", raising=False)
    ws = Workspace(Settings.from_env())
    try:
        assert isinstance(ws.artifacts, FsspecArtifactStore)
        add_version(ws, BIKE_CSV_GZ, "bikes")
    finally:
        ws.close()
    code = (
        "from sluice.data import load_frame; from sluice.workspace import current; "
        "ws = current(); print(repr(ws.artifacts), len(load_frame(ws, 'bikes@1')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [f"FsspecArtifactStore('s3://{bucket}/ws')", "17379"]


def test_file_urls_and_folders_still_open_the_local_store(tmp_path: Path) -> None:
    for location in (f"file://{tmp_path}/a", str(tmp_path / "b")):
        settings = Settings(home=tmp_path, db_url=f"sqlite:///{tmp_path}/s.db", artifacts=location)
        ws = Workspace(settings)
        try:
            assert isinstance(ws.artifacts, LocalArtifactStore)
            assert ws.artifacts.root == Path(location.removeprefix("file://"))
        finally:
            ws.close()


def test_a_missing_bucket_says_which_and_what_to_do(endpoint: str, tmp_path: Path) -> None:
    url = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/p"
    settings = Settings(home=tmp_path, db_url=f"sqlite:///{tmp_path}/s.db", artifacts=url)
    with pytest.raises(ArtifactStoreUnavailable) as info:
        Workspace(settings)
    assert str(info.value) == (
        f"Expected to open the artifact store at {url}; got FileNotFoundError: The specified "
        "bucket does not exist. Create the bucket it names, or set SLUICE_ARTIFACTS to one "
        "that exists."
    )
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_no_credentials_says_which_variables_to_set(
    bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ArtifactStoreUnavailable) as info:
        FsspecArtifactStore(f"s3://{bucket}/p")
    assert str(info.value) == (
        f"Expected to open the artifact store at s3://{bucket}/p; got NoCredentialsError: "
        "Unable to locate credentials. Give credentials that may read and write it: "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)."
    )


def test_an_unreachable_endpoint_names_the_endpoint_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dead = f"http://127.0.0.1:{_free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # fail fast instead of botocore's retries
    with pytest.raises(ArtifactStoreUnavailable) as info:
        FsspecArtifactStore("s3://b/p")
    assert str(info.value) == (
        "Expected to open the artifact store at s3://b/p; got EndpointConnectionError: Could "
        f'not connect to the endpoint URL: "{dead}/b/p/FORMAT". Check that the endpoint is up '
        "and reachable; for an S3-compatible server set AWS_ENDPOINT_URL to its address."
    )


def test_a_missing_s3fs_names_the_package_and_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = importlib.import_module("fsspec.registry")
    monkeypatch.delitem(registry._registry, "s3", raising=False)  # as if never imported
    monkeypatch.setitem(sys.modules, "s3fs", None)  # `import s3fs` now fails
    with pytest.raises(ArtifactStoreUnavailable) as info:
        Workspace(Settings(home=tmp_path, db_url="sqlite://", artifacts="s3://b/p"))
    assert str(info.value) == (
        "SLUICE_ARTIFACTS='s3://b/p' needs the package s3fs, which is not installed. Install it "
        "with `pip install 'sluice[s3]'`, or set SLUICE_ARTIFACTS to a folder."
    )


def test_a_missing_fsspec_names_the_package_and_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(ArtifactStoreUnavailable) as info:
        FsspecArtifactStore("s3://b/p")
    assert str(info.value) == (
        "SLUICE_ARTIFACTS='s3://b/p' needs the package fsspec, which is not installed. Install "
        "it with `pip install 'sluice[s3]'`, or set SLUICE_ARTIFACTS to a folder."
    )


def test_an_unknown_protocol_suggests_a_known_one() -> None:
    with pytest.raises(ArtifactStoreUnavailable) as info:
        FsspecArtifactStore("s4://b/p")
    assert str(info.value) == (
        "Expected SLUICE_ARTIFACTS to be a folder or a URL that fsspec can open; got 's4://b/p' "
        "(Protocol not known: s4). Did you mean 's3'? For example: s3://bucket/prefix."
    )


def test_a_password_in_the_url_is_not_shown() -> None:
    with pytest.raises(ArtifactStoreUnavailable) as info:
        FsspecArtifactStore("s4://user:hunter2@host/p")
    assert "hunter2" not in str(info.value) and "user:***@host" in str(info.value)
