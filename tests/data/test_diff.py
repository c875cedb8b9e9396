"""Differences between two versions: columns, kinds, roles and statistics."""

from __future__ import annotations

from pathlib import Path

from sluice.data import add_version, diff_versions
from sluice.workspace import Workspace
from tests.data.conftest import write


def test_diff_lists_only_what_changed(ws: Workspace, tmp_path: Path) -> None:
    a = add_version(
        ws,
        write(tmp_path / "a.csv", "id,x,city,gone\n1,1.0,Paris,1\n2,2.0,Lyon,2\n3,3.0,Paris,3\n"),
        "d",
    )
    b = add_version(
        ws,
        write(
            tmp_path / "b.csv",
            "id,x,city,new\n1,1.0,Paris,a\n2,2.0,Nice,b\n3,,Paris,c\n4,9.0,Nice,d\n",
        ),
        "d",
    )
    diff = diff_versions(a, b)
    assert (diff["a"], diff["b"], diff["identical"]) == ("d@1", "d@2", False)
    assert diff["rows"] == {"a": 3, "b": 4, "change": 1}
    assert diff["schema"]["added"] == ["new"] and diff["schema"]["removed"] == ["gone"]
    assert {"column": "x", "field": "nullable", "a": False, "b": True} in diff["schema"]["changed"]
    x = diff["statistics"]["x"]
    assert x["max"] == {"a": 3.0, "b": 9.0, "change": 6.0}
    assert x["missing_share"] == {"a": 0.0, "b": 0.25, "change": 0.25}
    assert diff["statistics"]["city"]["categories"] == {"added": ["Nice"], "removed": ["Lyon"]}
    assert "gone" not in diff["statistics"] and "new" not in diff["statistics"]


def test_diff_of_a_version_with_itself_is_empty(ws: Workspace, bike_path: Path) -> None:
    v = add_version(ws, bike_path, "bikes")
    diff = diff_versions(v, v)
    assert diff["identical"] is True
    assert diff["schema"] == {"added": [], "removed": [], "changed": []}
    assert diff["statistics"] == {}
