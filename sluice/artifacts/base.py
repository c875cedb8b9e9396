"""What every artifact store provides, and the contract test any implementation must pass.

Blobs are addressed by the BLAKE3 hash of their bytes (64 hex characters). A
store writes atomically, skips blobs it already has, and verifies the hash of
every blob it reads back: a mismatch raises ``ArtifactCorrupted``, never returns
wrong bytes.
"""

from __future__ import annotations

import abc
import os
import re
from pathlib import Path
from typing import BinaryIO

import blake3

from sluice.errors import ArtifactCorrupted, ArtifactError, ArtifactNotFound, InvalidArtifactName

CHUNK = 1 << 22  # 4 MiB
_HASH = re.compile(r"^[0-9a-f]{64}$")


def content_hash(data: bytes) -> str:
    """The address of some bytes."""
    return blake3.blake3(data, max_threads=blake3.blake3.AUTO).hexdigest()


def hash_file(path: str | os.PathLike[str]) -> str:
    """The address of a file's bytes, hashed with every core (memory-mapped)."""
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    if os.path.getsize(path) == 0:
        return hasher.hexdigest()
    hasher.update_mmap(path)
    return hasher.hexdigest()


def check_hash(address: str) -> str:
    if not isinstance(address, str) or not _HASH.match(address):
        raise InvalidArtifactName(
            f"Artifact address {address!r} is not a 64-character lowercase hex BLAKE3 hash."
        )
    return address


class ArtifactStore(abc.ABC):
    """Put bytes in, get them back by hash. Implementations override the underscored methods."""

    def put_bytes(self, data: bytes) -> str:
        address = content_hash(data)
        if not self.exists(address):
            self._write(address, data)
        return address

    def put_file(self, path: str | os.PathLike[str]) -> str:
        address = hash_file(path)
        if not self.exists(address):
            self._write_file(address, Path(path))
        return address

    def get_bytes(self, address: str) -> bytes:
        check_hash(address)
        if not self.exists(address):
            raise ArtifactNotFound(f"No artifact {address} in {self}.")
        data = self._read(address)
        actual = content_hash(data)
        if actual != address:
            raise ArtifactCorrupted(
                f"Artifact {address} in {self} is corrupted: its bytes hash to {actual}. "
                "Restore it from a backup or re-run the step that produced it."
            )
        return data

    def exists(self, address: str) -> bool:
        return self._exists(check_hash(address))

    @abc.abstractmethod
    def _exists(self, address: str) -> bool: ...

    @abc.abstractmethod
    def _read(self, address: str) -> bytes: ...

    @abc.abstractmethod
    def _write(self, address: str, data: bytes) -> None: ...

    def _write_file(self, address: str, path: Path) -> None:
        data = path.read_bytes()
        check_unchanged(path, address, content_hash(data))
        self._write(address, data)


def copy_checked(path: Path, address: str, out: BinaryIO) -> None:
    """Copy a file into ``out`` in chunks, hashing what is copied: it may change meanwhile."""
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    with open(path, "rb") as src:
        while chunk := src.read(CHUNK):
            hasher.update(chunk)
            out.write(chunk)
    check_unchanged(path, address, hasher.hexdigest())


def check_unchanged(path: Path, address: str, actual: str) -> None:
    """A file copied into the store must still have the bytes its address was computed from."""
    if actual != address:
        raise ArtifactError(
            f"Expected {path} to keep its bytes while it was stored; it changed after it was "
            f"hashed ({address[:12]}, now {actual[:12]}). Nothing was stored: wait until the "
            "file is complete, then store it again."
        )


def check_artifact_store(store: ArtifactStore) -> None:
    """Contract test: every artifact store, ours or a plugin's, must pass it."""
    data = os.urandom(1000)
    address = store.put_bytes(data)
    assert address == content_hash(data)
    assert store.exists(address)
    assert store.get_bytes(address) == data
    assert store.put_bytes(data) == address, "the same bytes must give the same address"
    missing = content_hash(b"never stored " + data)
    assert not store.exists(missing)
    try:
        store.get_bytes(missing)
    except ArtifactNotFound:
        pass
    else:  # pragma: no cover - a broken implementation
        raise AssertionError("get_bytes of a missing address must raise ArtifactNotFound")
    for bad in ("../etc/passwd", "/abs", "a\x00b", address.upper()):
        try:
            store.exists(bad)
        except InvalidArtifactName:
            continue
        raise AssertionError(f"address {bad!r} must be refused")
