"""`sluice data` commands through Typer's runner, on a real store under SLUICE_HOME."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sluice.cli.data import app
from tests.data.conftest import write

runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, " ".join(result.stderr.split())  # Rich wraps lines


def test_add_list_show(sluice_home: Path, bike_path: Path) -> None:
    code, out, _ = run("add", bike_path, "--name", "bikes", "--target", "cnt")
    assert code == 0 and "Added bikes@1: 17,379 rows, 17 columns" in out
    code, out, _ = run("add", bike_path, "--name", "bikes")
    assert code == 0 and "Already recorded as bikes@1" in out
    code, out, _ = run("list")
    assert code == 0 and "bikes@1" in out and "17,379" in out
    code, out, _ = run("list", "--json")
    listed = json.loads(out)
    assert [(d["name"], d["n_versions"], d["latest"]["ref"]) for d in listed] == [
        ("bikes", 1, "bikes@1")
    ]
    code, out, _ = run("show", "bikes@1")
    assert code == 0 and "instant" in out and "target cnt (regression)" in out
    code, out, _ = run("show", "bikes", "--json")
    shown = json.loads(out)
    assert shown["ref"] == "bikes@1" and shown["profile"]["n_rows"] == 17379
    assert {c["name"]: c["role"] for c in shown["schema"]["columns"]}["instant"] == "id"


def test_add_json_reports_new_or_not(sluice_home: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "x\n1\n2\n")
    first = json.loads(run("add", path, "--name", "a", "--json")[1])
    again = json.loads(run("add", path, "--name", "a", "--json")[1])
    assert (first["ref"], first["new"], again["new"]) == ("a@1", True, False)


def test_diff(sluice_home: Path, tmp_path: Path) -> None:
    run("add", write(tmp_path / "a.csv", "x,c\n1,p\n2,q\n"), "--name", "d")
    run("add", write(tmp_path / "b.csv", "x,c\n1,p\n5,r\n"), "--name", "d")
    code, out, _ = run("diff", "d@1", "d@2", "--json")
    assert code == 0 and json.loads(out)["statistics"]["x"]["max"] == {"a": 2, "b": 5, "change": 3}
    code, out, _ = run("diff", "d@1", "d@2")
    assert code == 0 and "max" in out and "categories" in out
    code, out, _ = run("diff", "d@1", "d@1")
    assert code == 0 and "No schema or statistics differences." in out


def test_validate_passes_with_warnings_and_fails_with_errors(
    sluice_home: Path, bike_path: Path, tmp_path: Path
) -> None:
    run("add", bike_path, "--name", "bikes")
    code, out, _ = run("validate", "bikes", "--target", "cnt")
    assert code == 0 and "leakage_suspect" in out and "passed with 0 error(s), 2 warning(s)" in out
    run("add", write(tmp_path / "other.csv", "a,b\n1,2\n3,4\n"), "--name", "other")
    code, out, err = run("validate", "other@1", "--against", "bikes@1")
    assert code == 1
    assert "missing_column" in out and "failed with 17 error(s)" in out
    assert "Expected other@1 to pass validation; found 17 error(s)" in err
    code, out, _ = run("validate", "other@1", "--against", "bikes@1", "--json")
    report = json.loads(out)
    assert (
        code == 1
        and report["ok"] is False
        and report["n_errors"] == 17
        and report["against"] == "bikes@1"
    )


def test_input_errors_exit_2_with_the_message(sluice_home: Path, tmp_path: Path) -> None:
    code, _, err = run("add", tmp_path / "nope.csv", "--name", "x")
    assert code == 2 and "Expected a data file at" in err
    code, _, err = run("add", write(tmp_path / "h.csv", "a,b\n"), "--name", "x")
    assert code == 2 and "found only a header" in err
    run("add", write(tmp_path / "a.csv", "x\n1\n"), "--name", "bikes")
    code, _, err = run("show", "bike")
    assert code == 2 and "Did you mean 'bikes'?" in err
    code, _, err = run("show", "bikes@0")
    assert code == 2 and "positive version number" in err


def test_every_command_has_help() -> None:
    for command in ("add", "list", "show", "diff", "validate"):
        code, out, _ = run(command, "--help")
        assert code == 0 and "Usage" in out
