"""The model being served, and switching to a new version without dropping a request.

A ``Served`` value bundles everything one version needs on the request path (the
loaded model, its parsing plan, its classes). The holder keeps one reference to
the current value: a reload loads the new version completely first, then replaces
the reference in one assignment. A request takes the reference once, so it is
parsed, batched and predicted by one version; batches already running keep theirs.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

from sluice.registry import LoadedModel, load_model, parse_uri, resolve
from sluice.serving.parsing import Plan
from sluice.serving.settings import ServeSettings
from sluice.workspace import Workspace


@dataclass(frozen=True)
class Served:
    """One loaded version, ready for the request path."""

    loaded: LoadedModel
    plan: Plan
    classes: list[Any] | None

    @property
    def version(self) -> int:
        return self.loaded.version

    @property
    def name(self) -> str:
        return self.loaded.name

    @classmethod
    def of(cls, loaded: LoadedModel, settings: ServeSettings) -> Served:
        plan = Plan.from_signature(
            loaded.signature,
            unknown_categories=settings.unknown_categories,
            max_records=settings.max_records,
        )
        return cls(loaded, plan, classes_of(loaded))


def classes_of(loaded: LoadedModel) -> list[Any] | None:
    """The classes of a classifier that gives probabilities, plain Python values; else None."""
    model = loaded.model
    classes = getattr(model, "classes_", None)
    if classes is None or not hasattr(model, "predict_proba"):
        return None
    return [c.item() if hasattr(c, "item") else c for c in classes]


@dataclass(frozen=True)
class ReloadResult:
    previous: int | None
    current: int
    changed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"previous": self.previous, "current": self.current, "changed": self.changed}


class ModelHolder:
    """The current version of the model behind ``settings.uri``; reloads follow the alias."""

    def __init__(self, ws: Workspace, settings: ServeSettings) -> None:
        self.ws = ws
        self.settings = settings
        self.ref = parse_uri(settings.uri)
        self.current: Served | None = None
        self._lock = threading.Lock()  # one reload at a time

    def set(self, loaded: LoadedModel) -> None:
        self.current = Served.of(loaded, self.settings)

    def reload(self) -> ReloadResult:
        """Re-resolve the URI; load and swap in the version it names when it changed.

        Blocking (reads the store and the artifact): call it in a thread.
        """
        with self._lock:
            before = self.current
            mv = resolve(self.ws, self.ref)
            if before is not None and before.version == mv.version:
                return ReloadResult(before.version, mv.version, False)
            loaded = load_model(mv.uri, workspace=self.ws, trusted=self.settings.trusted)
            self.current = Served.of(loaded, self.settings)  # the swap: one assignment
            return ReloadResult(None if before is None else before.version, mv.version, True)

    async def poll(self, every: float, on_change: Any) -> None:
        """Re-resolve every ``every`` seconds until cancelled; a failed look-up keeps serving."""
        import logging

        log = logging.getLogger("sluice.serving")
        while True:
            await asyncio.sleep(every)
            try:
                result = await asyncio.to_thread(self.reload)
            except Exception as exc:  # keep serving the version we have
                log.warning("re-resolving %s failed: %s", self.settings.uri, exc)
                continue
            if result.changed:
                on_change(result)
