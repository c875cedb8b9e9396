"""`sluice init`, `sluice run` and `sluice demo` through the CLI, on real stores in tmp folders."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from sluice.cli import pipeline as cli_pipeline
from sluice.registry import list_versions
from sluice.workspace import Workspace
from tests.templates.jobs import counts, job_yaml, mixed_frame

app = typer.Typer()
cli_pipeline.register(app)
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def run_json(config: Path) -> tuple[int, dict]:
    code, out, err = invoke("run", str(config), "--json")
    assert out, err
    return code, json.loads(out)


# -- the job on each kind of problem -------------------------------------------------------


def test_run_binary_csv_prints_the_story_then_reruns_fully_cached(
    tmp_path: Path, sluice_home: Path
) -> None:
    data = tmp_path / "loans.csv"
    mixed_frame(240, task="binary").to_csv(data, index=False)
    config = job_yaml(
        tmp_path,
        data,
        selection={"candidates": ["logistic_regression"]},
        gates=[
            {"kind": "beats_baseline", "metric": "roc_auc", "margin": 0.1},
            {"kind": "validation"},
        ],
    )
    code, out, err = invoke("run", str(config))
    assert code == 0, err
    for part in (
        "Leaderboard",
        "Chosen:",
        "logistic_regression",
        "Holdout",
        "Gates",
        "Lineage:",
        "Registered models:/m/1",
        "Report:",
    ):
        assert part in out, part
    code, summary = run_json(config)
    assert code == 0
    assert summary["timing"]["cache_hits"] == summary["timing"]["steps"]
    assert summary["task"] == "classification" and summary["metric"] == "roc_auc"
    assert Path(summary["report"]).is_file()
    ws = Workspace.at(sluice_home)
    try:
        assert [v.version for v in list_versions(ws, "m")] == [1]
    finally:
        ws.close()


def test_run_multiclass_parquet_with_odd_columns(tmp_path: Path, sluice_home: Path) -> None:
    data = tmp_path / "rows.parquet"
    mixed_frame(300, task="multiclass").to_parquet(data)
    config = job_yaml(tmp_path, data, selection={"candidates": ["logistic_regression"]})
    code, s = run_json(config)
    assert code == 0, s["outcome"]
    assert s["task"] == "classification" and s["registered"]["version"] == 1
    assert {"accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss"} <= set(
        s["holdout"]["metrics"]
    )
    assert {"city name", "is.member", "température"} <= {r["column"] for r in s["importance"]}


def test_run_regression_time_ordered(tmp_path: Path, sluice_home: Path) -> None:
    data = tmp_path / "demand.csv"
    mixed_frame(260, task="regression").to_csv(data, index=False)
    config = job_yaml(
        tmp_path,
        data,
        selection={"candidates": ["ridge"]},
        data={"path": data.name, "target": "label", "time_column": "day"},
        gates=[{"kind": "metric", "metric": "r2", "min": 0.5}],
    )
    code, s = run_json(config)
    assert code == 0, s["outcome"]
    assert s["task"] == "regression" and s["split"]["time_ordered"] is True
    assert s["split"]["cut"].startswith("2024-01-09")  # the last 20 % of 260 hourly rows


def test_failing_gate_exits_1_registers_nothing_keeps_report(
    tmp_path: Path, sluice_home: Path
) -> None:
    data = tmp_path / "d.csv"
    mixed_frame(200, task="regression").to_csv(data, index=False)
    config = job_yaml(
        tmp_path,
        data,
        selection={"candidates": ["ridge"]},
        gates=[{"kind": "metric", "metric": "rmse", "max": 0.001}],
    )
    code, out, _ = invoke("run", str(config))
    assert code == 1
    assert "FAIL" in out and "nothing was registered" in out
    reports = list((sluice_home / "reports").glob("run-*.html"))
    assert len(reports) == 1
    ws = Workspace.at(sluice_home)
    try:
        assert counts(ws)["model_versions"] == 0 and counts(ws)["pipeline_runs"] == 1
    finally:
        ws.close()


# -- bad input: exit 2, a clear message, nothing written ----------------------------------


def _frame_file(name: str, frame: pd.DataFrame) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        frame.to_csv(path, index=False)
        return path

    return make


def _bytes_file(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return make


CASES: dict[str, tuple[Callable[[Path], Path], dict[str, Any], str]] = {
    "missing file": (
        lambda folder: folder / "nope.csv",
        {},
        "sluice.yaml, relative to its folder); found nothing there. Fix data.path",
    ),
    "empty file": (_bytes_file("e.csv", b""), {}, "the file is empty (0 bytes)"),
    "header only": (
        _bytes_file("h.csv", b"a,b,label\n"),
        {},
        "found only a header (3 columns, 0 rows)",
    ),
    "non-UTF-8": (
        _bytes_file("l.csv", "a,label\ncafé,x\ncafé,y\n".encode("latin-1")),
        {},
        "Expected a UTF-8 encoded CSV",
    ),
    "duplicate columns": (
        _bytes_file("d.csv", b"a,a,label\n1,2,x\n3,4,y\n"),
        {},
        "these appear more than once: 'a'",
    ),
    "target absent": (
        _frame_file("t.csv", mixed_frame(40)),
        {"target": "labl"},
        "data.target names column 'labl'",
    ),
    "target all null": (
        _frame_file("n.csv", mixed_frame(40).assign(label=np.nan)),
        {},
        "Target column 'label' must have values; got 40 rows, all empty",
    ),
    "single class": (
        _frame_file("s.csv", mixed_frame(40).assign(label="yes")),
        {},
        "needs at least two classes in 'label'; got one: 'yes' in all 40 rows",
    ),
    "fewer rows than folds": (
        _frame_file("f.csv", mixed_frame(6)),
        {"folds": 5},
        "Cross-validation with 5 folds needs at least 10 training rows",
    ),
    "unknown key": (
        _frame_file("k.csv", mixed_frame(40)),
        {"extra": {"seeed": 1}},
        "unknown key 'seeed'. Did you mean 'seed'?",
    ),
    "unknown candidate": (
        _frame_file("c.csv", mixed_frame(40)),
        {"candidates": ["random_forrest"]},
        "Did you mean 'random_forest'?",
    ),
    "gate unknown metric": (
        _frame_file("g.csv", mixed_frame(40)),
        {"gates": [{"kind": "metric", "metric": "rmsee", "max": 1}]},
        "names metric 'rmsee', which is not defined for classification",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_with_message_and_writes_nothing(
    case: str, tmp_path: Path, sluice_home: Path
) -> None:
    make, options, expected = CASES[case]
    data = make(tmp_path)
    sections: dict = {}
    if "target" in options:
        sections["data"] = {"path": data.name, "target": options["target"]}
    if "candidates" in options:
        sections["selection"] = {"candidates": options["candidates"]}
    if "folds" in options:
        sections["selection"] = {"cv_folds": options["folds"]}
    config = job_yaml(tmp_path, data, gates=options.get("gates"), **sections)
    if "extra" in options:
        config.write_text(config.read_text(encoding="utf-8") + "seeed: 1\n", encoding="utf-8")
    code, out, err = invoke("run", str(config))
    assert code == 2, (out, err)
    assert expected in " ".join(err.split()), err
    if case == "target absent":
        assert "Did you mean 'label'?" in err
    assert not sluice_home.exists(), "bad input must not even create the store"


# -- init and demo --------------------------------------------------------------------------


def test_init_then_run(tmp_path: Path, sluice_home: Path) -> None:
    data = tmp_path / "data.csv"
    mixed_frame(200, task="binary").to_csv(data, index=False)
    out = tmp_path / "sluice.yaml"
    code, stdout, err = invoke(
        "init", "--data", str(data), "--target", "label", "--out", str(out), "--name", "loans"
    )
    assert code == 0, err
    assert "Wrote" in stdout and "classification, metric roc_auc" in stdout
    code, _, err = invoke("init", "--data", str(data), "--target", "label", "--out", str(out))
    assert code == 2 and "Pass --force to overwrite it" in err
    text = out.read_text(encoding="utf-8").replace("cv_folds: 5", "cv_folds: 2")
    text = text.replace("candidates: null", "candidates: [logistic_regression]")
    out.write_text(text.replace("learning_curve: true", "learning_curve: false"), "utf-8")
    code, s = run_json(out)
    assert code == 0, s["outcome"]
    assert s["registered"]["uri"] == "models:/loans/1"


def test_init_absent_target_exits_2_with_suggestion(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    mixed_frame(30).to_csv(data, index=False)
    code, _, err = invoke(
        "init", "--data", str(data), "--target", "Label", "--out", str(tmp_path / "s.yaml")
    )
    assert code == 2
    assert "--target 'Label' must name a column" in err and "Did you mean 'label'?" in err


def test_commands_have_help() -> None:
    for command in ("init", "run", "demo"):
        code, out, _ = invoke(command, "--help")
        assert code == 0 and "Usage" in out
