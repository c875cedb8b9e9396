"""The small typed contracts of the pipeline engine: states and materializers.

A materializer turns one kind of step output into bytes for the artifact store
and back. Its ``name`` is stored with the artifact, so a reader picks the same
materializer without guessing; its ``libraries`` enter the cache key of the steps
that read such artifacts, because a new pandas may read the same bytes differently.
"""

from __future__ import annotations

import enum
from typing import Protocol, runtime_checkable


class Status(enum.StrEnum):
    """State of a pipeline run or of one step run."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CACHED = "cached"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


@runtime_checkable
class Materializer(Protocol):
    """Turns one kind of value into bytes and back. Loading must never run code."""

    name: str
    media_type: str
    libraries: tuple[str, ...]

    def can_save(self, obj: object) -> bool: ...

    def save(self, obj: object) -> bytes: ...

    def load(self, data: bytes) -> object: ...
