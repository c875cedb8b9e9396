"""Fuzz the team server from its own OpenAPI spec with schemathesis: no request, however
malformed, gets a 5xx. The number of cases tried is printed with the test output."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.test_team_server import start_server, stop_server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("team-server")]
ST = shutil.which("st", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(ST is None, reason="schemathesis is not installed (make test installs it)")
def test_no_input_gives_a_server_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    team = start_server(tmp_path / "home", None, "--max-token-failures", "100000")
    try:
        assert team.proc.stdout is not None
        assert team.proc.stdout.readline().startswith("First start: created the user admin.")
        token = team.proc.stdout.readline().strip()
        done = subprocess.run(
            [
                str(ST),
                "run",
                f"{team.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "25",
                "--seed",
                "20261204",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        log = stop_server(team)
    summary = done.stdout[done.stdout.rfind("SUMMARY") :]
    cases = re.search(r"(\d+) generated, (\d+) passed", summary)
    with capsys.disabled():
        print(f"\nschemathesis: {cases.group(0) if cases else summary[-400:]}")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert cases and int(cases.group(1)) == int(cases.group(2)) >= 200, summary
    assert "Traceback" not in log, log[-3000:]
