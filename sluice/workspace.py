"""A workspace: the metadata store and the artifact store, opened together.

Domain modules take a ``Workspace`` explicitly. The fluent API and the CLI use
:func:`current`, which opens the one named by the environment once per process.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from sluice.artifacts import ArtifactStore, FsspecArtifactStore, LocalArtifactStore
from sluice.config import Settings
from sluice.store import Store
from sluice.store import tables as t
from sluice.store.sql import insert_ignore


class Workspace:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: Store | None = None,
        artifacts: ArtifactStore | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.store = store or Store(self.settings.db_url)
        self.artifacts = artifacts or _open_artifacts(self.settings.artifacts)

    @classmethod
    def at(cls, home: str | os.PathLike[str]) -> Workspace:
        """A workspace entirely inside one folder, whatever the environment says."""
        return cls(Settings.at(home))

    def __repr__(self) -> str:
        return f"Workspace(store={self.store.safe_url!r}, artifacts={str(self.artifacts)!r})"

    def put(self, data: bytes, *, media_type: str, materializer: str) -> str:
        """Store bytes and index them; returns their address."""
        address = self.artifacts.put_bytes(data)
        self._index(address, len(data), media_type, materializer)
        return address

    def put_file(self, path: str | os.PathLike[str], *, media_type: str, materializer: str) -> str:
        address = self.artifacts.put_file(path)
        self._index(address, Path(path).stat().st_size, media_type, materializer)
        return address

    def get(self, address: str) -> bytes:
        """The bytes of an artifact, hash-verified."""
        return self.artifacts.get_bytes(address)

    def _index(self, address: str, size: int, media_type: str, materializer: str) -> None:
        row = {
            "hash": address,
            "size": size,
            "media_type": media_type,
            "materializer": materializer,
            "created_at": time.time(),
        }
        with self.store.write() as conn:
            insert_ignore(conn, t.artifacts, [row])

    def close(self) -> None:
        self.store.close()


def _open_artifacts(location: str) -> ArtifactStore:
    """A folder or ``file://`` URL opens the local store; any other URL the fsspec one."""
    if "://" in location and not location.startswith("file://"):
        return FsspecArtifactStore(location)
    return LocalArtifactStore(location.removeprefix("file://"))


_current: dict[Settings, Workspace] = {}
_lock = threading.Lock()


def current() -> Workspace:
    """The workspace that the environment names (SLUICE_HOME, SLUICE_DB_URL, SLUICE_ARTIFACTS)."""
    settings = Settings.from_env()
    with _lock:
        if settings not in _current:
            _current[settings] = Workspace(settings)
        return _current[settings]
