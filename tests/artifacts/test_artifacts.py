"""The content-addressed artifact store: contract, atomicity, verification on read."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sluice.artifacts import (
    LocalArtifactStore,
    MemoryArtifactStore,
    check_artifact_store,
    content_hash,
    hash_file,
)
from sluice.errors import (
    ArtifactCorrupted,
    ArtifactError,
    ArtifactNotFound,
    InvalidArtifactName,
)
from sluice.workspace import Workspace


def test_local_store_passes_the_contract(tmp_path: Path) -> None:
    check_artifact_store(LocalArtifactStore(tmp_path / "a"))


def test_memory_store_passes_the_contract() -> None:
    check_artifact_store(MemoryArtifactStore())


def test_layout_is_two_hex_characters_then_the_rest(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    address = store.put_bytes(b"bikes")
    assert (tmp_path / address[:2] / address[2:]).read_bytes() == b"bikes"
    assert (tmp_path / "FORMAT").read_text().startswith("sluice-artifacts 1")
    assert not list(tmp_path.rglob(".tmp-*")), "no temporary files may remain"


def test_corrupted_blob_raises_instead_of_returning_wrong_bytes(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    address = store.put_bytes(b"the real model")
    store.path(address).write_bytes(b"the evil model")
    with pytest.raises(ArtifactCorrupted, match=f"Artifact {address} .* is corrupted"):
        store.get_bytes(address)


def test_missing_blob(tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFound, match="No artifact"):
        LocalArtifactStore(tmp_path).get_bytes("0" * 64)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc/passwd", "ab\x00cd", "A" * 64, ""])
def test_addresses_that_could_escape_the_folder_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidArtifactName, match="not a 64-character lowercase hex"):
        LocalArtifactStore(tmp_path).get_bytes(bad)


def test_put_file_streams_and_dedupes(tmp_path: Path) -> None:
    src = tmp_path / "data.bin"
    src.write_bytes(b"x" * 10_000_000)
    store = LocalArtifactStore(tmp_path / "store")
    first = store.put_file(src)
    assert first == content_hash(src.read_bytes()) == hash_file(src)
    assert store.put_file(src) == first
    assert len([p for p in (tmp_path / "store").rglob("*") if p.is_file()]) == 2  # blob + FORMAT


def test_empty_file_has_the_empty_hash(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert hash_file(empty) == content_hash(b"")


# BLAKE3 of no bytes, from the reference implementation: addresses never change across runs
EMPTY = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"


@given(st.binary(max_size=5000))
def test_content_address_is_stable_and_matches_file_hash(data: bytes) -> None:
    assert content_hash(b"") == EMPTY
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "blob"
        path.write_bytes(data)
        assert hash_file(path) == content_hash(data)
        assert LocalArtifactStore(Path(folder) / "store").put_file(path) == content_hash(data)
    assert re.fullmatch("[0-9a-f]{64}", content_hash(data))


@pytest.mark.parametrize("store", ["local", "memory"])
def test_a_file_that_changes_after_hashing_is_not_stored(tmp_path: Path, store: str) -> None:
    """Otherwise its blob would sit under a wrong address, and later puts would skip it."""
    src = tmp_path / "growing.csv"
    src.write_bytes(b"a,b\n1,2\n")
    address = content_hash(b"a,b\n")  # what the file held when it was hashed
    target = LocalArtifactStore(tmp_path / "s") if store == "local" else MemoryArtifactStore()
    with pytest.raises(ArtifactError) as info:
        target._write_file(address, src)
    assert str(info.value) == (
        f"Expected {src} to keep its bytes while it was stored; it changed after it was hashed "
        f"({address[:12]}, now {content_hash(src.read_bytes())[:12]}). Nothing was stored: wait "
        "until the file is complete, then store it again."
    )
    assert not target.exists(address)
    assert target.put_file(src) == content_hash(src.read_bytes())
    if isinstance(target, LocalArtifactStore):
        assert not list(target.root.rglob(".tmp-*")), "no temporary files may remain"


def test_workspace_indexes_what_it_stores(any_ws: Workspace) -> None:
    address = any_ws.put(b"{}", media_type="application/json", materializer="json")
    any_ws.put(b"{}", media_type="application/json", materializer="json")
    assert any_ws.get(address) == b"{}"
    import sqlalchemy as sa

    from sluice.store import tables as t

    with any_ws.store.read() as conn:
        rows = conn.execute(sa.select(t.artifacts.c.hash, t.artifacts.c.size)).all()
    assert rows == [(address, 2)]


def test_a_root_that_cannot_be_a_folder_is_an_artifact_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ArtifactError) as info:
        LocalArtifactStore(blocker / "artifacts")
    assert str(info.value) == (
        f"Expected a folder for the artifact store at {blocker / 'artifacts'}; it cannot be "
        "made (Not a directory). Set SLUICE_ARTIFACTS (or SLUICE_HOME) to a folder you can "
        "write."
    )
