"""`sluice audit log/verify` on a real workspace named by SLUICE_HOME, tampered with by SQL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sluice.cli.main import app
from sluice.errors import ConfigError
from sluice.governance import parse_since

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def home(sluice_home: Path, tmp_path: Path) -> Path:
    for i, rows in enumerate((10, 20)):
        path = tmp_path / f"d{i}.csv"
        pd.DataFrame({"x": range(rows), "y": range(rows)}).to_csv(path, index=False)
        added = runner.invoke(app, ["data", "add", str(path), "--name", "sales"])
        assert added.exit_code == 0, added.output
    promoted = runner.invoke(app, ["data", "add", str(tmp_path / "d0.csv"), "--name", "costs"])
    assert promoted.exit_code == 0, promoted.output
    return sluice_home


def _log(*args: str) -> list[dict]:
    result = runner.invoke(app, ["audit", "log", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_log_lists_newest_first_with_filters(home: Path) -> None:
    events = _log()
    assert [(e["seq"], e["action"], e["target"]) for e in events] == [
        (3, "dataset.version_added", "datasets:/costs/1"),
        (2, "dataset.version_added", "datasets:/sales/2"),
        (1, "dataset.version_added", "datasets:/sales/1"),
    ]
    assert events[1]["after"]["rows"] == 20 and events[0]["time"].endswith("Z")
    assert [e["seq"] for e in _log("--target", "datasets:/sales")] == [2, 1]
    assert [e["seq"] for e in _log("--limit", "1")] == [3]
    assert _log("--actor", "nobody") == []
    assert len(_log("--actor", events[0]["actor"], "--since", "1h")) == 3
    assert _log("--since", "2999-01-01") == []
    table = runner.invoke(app, ["audit", "log", "--since", "2999-01-01"])
    assert table.exit_code == 0 and table.stdout.strip() == "No audit events match."


def test_verify_passes_then_names_the_edited_event(home: Path) -> None:
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0
    assert ok.stdout.startswith("The audit trail is intact: 3 events, head 3 (")
    with sqlite3.connect(home / "sluice.db") as db:
        db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert " ".join(broken.stderr.split()) == (
        "The audit trail is broken at event 2: event 2 (dataset.version_added on "
        "datasets:/sales/2) does not match its hash: it was edited after it was written. "
        "2 events read; the head records event 3."
    )
    report = json.loads(runner.invoke(app, ["audit", "verify", "--json"]).stdout)
    assert report["ok"] is False and report["broken_seq"] == 2


def test_a_bad_since_is_refused_with_the_formats(sluice_home: Path) -> None:
    result = runner.invoke(app, ["audit", "log", "--since", "yesterday"])
    assert result.exit_code == 2
    assert "Expected --since as a date (2026-12-01)" in result.stderr
    assert "got 'yesterday'" in result.stderr


def test_since_accepts_dates_times_and_ages() -> None:
    assert parse_since("2026-12-01") == 1796083200.0
    assert parse_since("2026-12-01T01:00") == 1796083200.0 + 3600
    assert parse_since("2026-12-01T01:00+01:00") == 1796083200.0
    assert parse_since("7d", now=1_000_000.0) == 1_000_000.0 - 7 * 86400
    assert parse_since("30m", now=1_000_000.0) == 1_000_000.0 - 1800
    with pytest.raises(ConfigError, match="or an age"):
        parse_since("soon")
