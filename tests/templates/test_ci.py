"""`sluice ci`: the workflow in docs/ci.md, run line by line on real data, then a pull
request that would regress: exit 1, a red summary appended to $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sluice.templates.tabular.demo import bundled_data

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SLUICE = shutil.which("sluice", path=str(Path(sys.executable).parent)) or "sluice"


def _workflow_commands() -> list[str]:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block, "docs/ci.md holds the workflow in a yaml block"
    steps = yaml.safe_load(block.group(1))["jobs"]["gates"]["steps"]
    return [s["run"] for s in steps if str(s.get("run", "")).startswith("sluice ")]


def _sh(cwd: Path, command: str, summary: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    env |= {"SLUICE_HOME": ".sluice", "GITHUB_STEP_SUMMARY": str(summary), "OMP_NUM_THREADS": "1"}
    args = shlex.split(command)
    return subprocess.run(
        [SLUICE, *args[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_documented_workflow_then_a_regressing_pull_request(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    hours = pd.read_csv(bundled_data()).head(2000).drop(columns=["casual", "registered"])
    hours.to_csv(repo / "hours.csv", index=False)
    summary = tmp_path / "step-summary.md"
    init = _sh(
        repo,
        "sluice init --data hours.csv --target cnt --time-column dteday --name demand",
        summary,
    )
    assert init.returncode == 0, init.stderr

    commands = _workflow_commands()
    assert commands == ["sluice ci sluice.yaml", "sluice models show demand@challenger"]
    for command in commands:
        done = _sh(repo, command, summary)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    first = summary.read_text(encoding="utf-8")
    assert first.startswith("## ✅ sluice ci: demand passed every gate")
    assert "| registered | `models:/demand/1` (challenger, champion) |" in first

    config = (repo / "sluice.yaml").read_text(encoding="utf-8")
    (repo / "sluice.yaml").write_text(
        config.replace("  candidates: null", "  candidates: [ridge]"), encoding="utf-8"
    )
    worse = _sh(repo, "sluice ci sluice.yaml", summary)
    assert worse.returncode == 1, worse.stderr
    assert worse.stdout.startswith("## ❌ sluice ci: demand failed 1 of 5 gates")
    assert "| no regression on rmse | ❌ fail | rmse is" in worse.stdout
    assert summary.read_text(encoding="utf-8") == first + worse.stdout + "\n"

    earlier = re.search(r"pipeline run \| `([0-9a-f]{12})`", first)
    assert earlier
    config_now = (repo / "sluice.yaml").read_text(encoding="utf-8")
    (repo / "sluice.yaml").write_text(config, encoding="utf-8")  # the pull request reverted
    again = _sh(repo, f"sluice ci sluice.yaml --run {earlier.group(1)} --json", summary)
    assert again.returncode == 0, again.stderr
    told = json.loads(again.stdout)
    assert told["run_id"].startswith(earlier.group(1)) and told["outcome"]["ok"] is True
    assert told["markdown"].startswith("## ✅ sluice ci: demand passed every gate")
    assert "candidates: [ridge]" in config_now
