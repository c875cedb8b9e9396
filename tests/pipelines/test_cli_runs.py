"""``sluice runs``: list, show, logs and resume, on a real workspace named by SLUICE_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from typer.testing import CliRunner

from sluice.cli.runs import app
from sluice.errors import StepFailed
from sluice.workspace import current
from tests.pipelines.conftest import WriteModule

SOURCE = """
    import logging

    from sluice.pipelines import pipeline, step

    @step
    def numbers(n: int) -> list:
        logging.getLogger("cli-test").warning("making %d numbers", n)
        return list(range(n))

    @step
    def check(values: list) -> int:
        if {broken}:
            raise RuntimeError("values look wrong")
        return len(values)

    @pipeline
    def counting(n: int = 3):
        check(numbers(n))
"""

runner = CliRunner(env={"COLUMNS": "200"})


def _failed_run(write_module: WriteModule) -> tuple[str, str]:
    module = write_module(SOURCE.format(broken=True))
    try:
        module.counting.run(current())
    except StepFailed as exc:
        assert exc.run_id is not None
        return exc.run_id, module.__name__
    raise AssertionError("the run should fail")


def test_list_and_show_in_tables_and_json(sluice_home: Path, write_module: WriteModule) -> None:
    module = write_module(SOURCE.format(broken=False))
    module.counting.run(current())
    second = module.counting.run(current())

    table = runner.invoke(app, ["list"])
    assert table.exit_code == 0, table.output
    assert "counting" in table.output and "2/2" in table.output and "0/2" in table.output

    listed = json.loads(runner.invoke(app, ["list", "--json"]).output)
    assert listed[0]["id"] == second.id
    assert [(r["status"], r["cache_hits"], r["steps"]) for r in listed] == [
        ("completed", 2, 2),
        ("completed", 0, 2),
    ]

    shown = runner.invoke(app, ["show", second.id[:8]])
    assert shown.exit_code == 0, shown.output
    assert (
        second.id in shown.output and "hit (" in shown.output and "Steps (2 cached)" in shown.output
    )

    data = json.loads(runner.invoke(app, ["show", second.id, "--json"]).output)
    assert data["params"] == {"n": 3}
    assert [s["name"] for s in data["steps"]] == ["numbers", "check"]
    assert data["steps"][1]["inputs"] == {"values": data["steps"][0]["outputs"]["output"]}


def test_list_refuses_an_unknown_status(sluice_home: Path) -> None:
    result = runner.invoke(app, ["list", "--status", "faild"])
    assert result.exit_code == 2
    assert "Expected --status to be one of pending, running, completed, failed" in result.output
    assert "Did you mean 'failed'?" in result.output


def test_show_of_an_unknown_run_says_how_to_find_one(sluice_home: Path) -> None:
    result = runner.invoke(app, ["show", "abcdef12"])
    assert result.exit_code == 2
    assert "matches no run. List runs with `sluice runs list`." in result.output


def test_a_run_id_prefix_must_name_one_run(sluice_home: Path) -> None:
    from sluice.pipelines.records import RunRecorder

    ws = current()
    ids = ["abcd" + "1" * 28, "abcd" + "2" * 28]
    for run_id in ids:
        RunRecorder(ws, run_id).start("p", {}, "local", None)
    result = runner.invoke(app, ["show", "ABCD"])
    assert result.exit_code == 2
    assert " ".join(result.stderr.split()) == (
        f"error: Expected a run id prefix that names one run; got 'abcd', the start of "
        f"{ids[0]}, {ids[1]}. Give more characters."
    )
    assert runner.invoke(app, ["show", "abcd1", "--json"]).exit_code == 0
    short = runner.invoke(app, ["show", "abc"])
    assert short.exit_code == 2
    assert "(or its first characters, at least 4); got 'abc', which matches no run." in " ".join(
        short.stderr.split()
    )


def test_logs_and_resume_of_a_failed_run(sluice_home: Path, write_module: WriteModule) -> None:
    run_id, module_name = _failed_run(write_module)

    logs = runner.invoke(app, ["logs", run_id])
    assert logs.exit_code == 0, logs.output
    assert "== numbers ==" in logs.output and "WARNING cli-test: making 3 numbers" in logs.output
    assert "RuntimeError: values look wrong" in logs.output
    only = runner.invoke(app, ["logs", run_id[:6], "check"])
    assert "== numbers ==" not in only.output and "== check ==" in only.output

    still_broken = runner.invoke(app, ["resume", run_id])
    assert still_broken.exit_code == 1
    assert "Step 'check' failed after 1 attempt(s)" in still_broken.output

    write_module(SOURCE.format(broken=False), name=module_name)
    fixed = runner.invoke(app, ["resume", run_id])
    assert fixed.exit_code == 0, fixed.output
    assert "completed" in fixed.output and f"resumed from {run_id}" in fixed.output
    assert "(1/2 steps reused)" in fixed.output

    new_id = json.loads(runner.invoke(app, ["list", "--json"]).output)[0]["id"]
    reused = runner.invoke(app, ["logs", new_id, "numbers"]).output
    assert "(cached: output reused from step run" in reused
    assert "WARNING cli-test: making 3 numbers" in reused


def test_resume_of_a_completed_run_exits_2(sluice_home: Path, write_module: WriteModule) -> None:
    run = write_module(SOURCE.format(broken=False)).counting.run(current())
    result = runner.invoke(app, ["resume", run.id])
    assert result.exit_code == 2
    assert "Only failed runs can be resumed" in result.output


def test_resume_from_the_command_line_in_fresh_processes(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    env = {**os.environ, "SLUICE_HOME": str(tmp_path / "home"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("SLUICE_DB_URL", None)
    env.pop("SLUICE_ARTIFACTS", None)
    (project / "counting_flow.py").write_text(textwrap.dedent(SOURCE.format(broken=True)))
    script = "import counting_flow, sluice.workspace as w; counting_flow.counting.run(w.current())"
    failed = subprocess.run(
        [sys.executable, "-c", script], cwd=project, env=env, capture_output=True, text=True
    )
    assert "StepFailed" in failed.stderr
    run_id = failed.stderr.split("sluice runs resume ")[1][:32]

    (project / "counting_flow.py").write_text(textwrap.dedent(SOURCE.format(broken=False)))
    sluice_cli = Path(sys.executable).parent / "sluice"
    resumed = subprocess.run(
        [str(sluice_cli), "runs", "resume", run_id[:8]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed from {run_id}" in resumed.stdout
    assert "[1/2] numbers: cached" in resumed.stderr and "[2/2] check: done" in resumed.stderr
