"""Fixtures for pipeline tests: user modules written to disk and imported fresh."""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

WriteModule = Callable[..., ModuleType]


@pytest.fixture
def write_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WriteModule]:
    """Write Python source to a module in tmp_path and import it under a fresh, unique name.

    ``write_module(source, name=...)`` with the name of an earlier module rewrites it
    and imports it again, as a new process would after an edit.
    """
    folder = tmp_path / "userpkg"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    created: list[str] = []

    def write(source: str, name: str | None = None) -> ModuleType:
        name = name or f"user_{uuid.uuid4().hex[:12]}"
        (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        sys.modules.pop(name, None)
        importlib.invalidate_caches()
        created.append(name)
        return importlib.import_module(name)

    yield write
    for name in created:
        sys.modules.pop(name, None)
