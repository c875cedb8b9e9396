"""Content-addressed blob store: the bytes of every dataset, model and step output."""

from sluice.artifacts.base import ArtifactStore, check_artifact_store, content_hash, hash_file
from sluice.artifacts.local import LocalArtifactStore
from sluice.artifacts.memory import MemoryArtifactStore
from sluice.artifacts.remote import FsspecArtifactStore

__all__ = [
    "ArtifactStore",
    "FsspecArtifactStore",
    "LocalArtifactStore",
    "MemoryArtifactStore",
    "check_artifact_store",
    "content_hash",
    "hash_file",
]
