"""Artifact store in a local (or shared) folder: ``ab/cdef…`` under the root."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from sluice.artifacts.base import ArtifactStore, copy_checked
from sluice.errors import ArtifactError

FORMAT_VERSION = "1"


class LocalArtifactStore(ArtifactStore):
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArtifactError(
                f"Expected a folder for the artifact store at {self.root}; it cannot be made "
                f"({exc.strerror or exc}). Set SLUICE_ARTIFACTS (or SLUICE_HOME) to a folder "
                "you can write."
            ) from exc
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
        atomic_write(self.path(address), lambda out: copy_checked(path, address, out))


def atomic_write(target: Path, content: bytes | Callable[[BinaryIO], None]) -> None:
    """Temp file in the same folder, fsync, rename: readers see all or nothing.

    The file is readable by everyone (0644), like one written with ``open``; the
    temporary file mkstemp makes would otherwise stay private to its owner.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o644)
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
