"""The content-addressed artifact store: contract, atomicity, verification on read."""

from __future__ import annotations

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
from sluice.errors import ArtifactCorrupted, ArtifactNotFound, InvalidArtifactName
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


@given(st.binary(max_size=5000))
def test_content_address_is_stable_and_matches_file_hash(data: bytes) -> None:
    assert content_hash(data) == content_hash(bytes(data))
    assert len(content_hash(data)) == 64


def test_workspace_indexes_what_it_stores(any_ws: Workspace) -> None:
    address = any_ws.put(b"{}", media_type="application/json", materializer="json")
    any_ws.put(b"{}", media_type="application/json", materializer="json")
    assert any_ws.get(address) == b"{}"
    import sqlalchemy as sa

    from sluice.store import tables as t

    with any_ws.store.read() as conn:
        rows = conn.execute(sa.select(t.artifacts.c.hash, t.artifacts.c.size)).all()
    assert rows == [(address, 2)]
