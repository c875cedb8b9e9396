"""Rebuilding a model from bytes that came from elsewhere (a team server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluice.errors import ArtifactCorrupted
from sluice.registry import resolve
from sluice.registry.loading import rebuild, version_from_dict
from sluice.workspace import Workspace
from tests.server.test_team_server import _register, _settings


def test_bytes_are_checked_against_the_version_before_they_are_loaded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _register(_settings(home, None))
    ws = Workspace.at(home)
    try:
        mv = version_from_dict(resolve(ws, "models:/demand/2").to_dict())
        assert mv == resolve(ws, "models:/demand/2")
        data = ws.get(mv.artifact_hash)
        loaded = rebuild(mv, data)
        assert loaded.uri == "models:/demand/2" and loaded.model_version == mv
        with pytest.raises(ArtifactCorrupted, match=r"they were not loaded\. Fetch them again"):
            rebuild(mv, data[:-1] + bytes([data[-1] ^ 1]))
    finally:
        ws.close()
