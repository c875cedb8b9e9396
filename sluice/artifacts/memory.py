"""Artifact store in a dict, for tests of code above the store."""

from __future__ import annotations

from sluice.artifacts.base import ArtifactStore


class MemoryArtifactStore(ArtifactStore):
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def __str__(self) -> str:
        return "memory"

    def _exists(self, address: str) -> bool:
        return address in self.blobs

    def _read(self, address: str) -> bytes:
        return self.blobs[address]

    def _write(self, address: str, data: bytes) -> None:
        self.blobs[address] = bytes(data)
