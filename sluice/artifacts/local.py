"""Artifact store in a local (or shared) folder: ``ab/cdef…`` under the root."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from sluice.artifacts.base import CHUNK, ArtifactStore

FORMAT_VERSION = "1"


class LocalArtifactStore(ArtifactStore):
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        marker = self.root / "FORMAT"
        if not marker.exists():
            atomic_write(marker, f"sluice-artifacts {FORMAT_VERSION}\n".encode())

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"

    def __str__(self) -> str:
        return str(self.root)

    def path(self, address: str) -> Path:
        """Where the blob lives (read it through get_bytes to have it verified)."""
        return self.root / address[:2] / address[2:]

    def _exists(self, address: str) -> bool:
        return self.path(address).is_file()

    def _read(self, address: str) -> bytes:
        return self.path(address).read_bytes()

    def _write(self, address: str, data: bytes) -> None:
        atomic_write(self.path(address), data)

    def _write_file(self, address: str, path: Path) -> None:
        def copy(out: BinaryIO) -> None:
            with open(path, "rb") as src:
                shutil.copyfileobj(src, out, CHUNK)

        atomic_write(self.path(address), copy)


def atomic_write(target: Path, content: bytes | Callable[[BinaryIO], None]) -> None:
    """Temp file in the same folder, fsync, rename: readers see all or nothing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(content, bytes):
                out.write(content)
            else:
                content(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
