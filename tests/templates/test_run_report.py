"""The HTML run report: self-contained, autoescaped, and written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sluice.reports.run_report import render_run_report, write_run_report


def summary(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "run_id": "a" * 32,
        "status": "completed",
        "project": {"name": "<b>proj</b>", "objective": "predict & explain"},
        "task": "regression",
        "target": "cnt",
        "metric": "rmse",
        "sluice_version": "0.1.0",
        "outcome": {"ok": True, "message": "Registered models:/m/1 (champion)."},
        "data": {
            "name": "d",
            "version": 2,
            "content_hash": "f" * 64,
            "source": "/x.csv",
            "n_rows": 1000,
            "n_cols": 4,
        },
        "validation": {
            "anomalies": [
                {
                    "severity": "warning",
                    "column": "<script>x</script>",
                    "kind": "leakage_suspect",
                    "observed": 0.95,
                    "expected": "< 0.9",
                    "message": "alone explains 95 %",
                }
            ]
        },
        "cleaning": {
            "rows_out": 990,
            "dropped_columns": ["id"],
            "duplicates_removed": 10,
            "missing_target_removed": 0,
        },
        "split": {
            "train_rows": 792,
            "holdout_rows": 198,
            "time_ordered": True,
            "cut": "2012-08-01T00:00:00",
        },
        "leaderboard": [
            {
                "name": "ridge",
                "cv_mean": 90.0,
                "cv_std": 3.0,
                "fit_time": 0.1,
                "latency_us": 5.0,
                "size_bytes": 9000,
                "interpretability": "high",
                "run_id": "b" * 32,
                "chosen": True,
            },
            {
                "name": "baseline",
                "cv_mean": 180.0,
                "cv_std": 9.0,
                "fit_time": 0.01,
                "latency_us": 1.0,
                "size_bytes": 800,
                "interpretability": "high",
                "run_id": "c" * 32,
                "chosen": False,
            },
        ],
        "choice": {"winner": "ridge", "reasons": ["ridge won: best of 1 candidates."]},
        "holdout": {"metrics": {"rmse": 88.0, "r2": 0.8}, "baseline": {"rmse": 170.0, "r2": 0.0}},
        "flags": [{"kind": "overfitting", "message": "train 20, holdout 88"}],
        "slices": [{"column": "season", "value": "1", "rows": 50, "score": 120.0}],
        "weakest_slices": ["season = 1: rmse 120 (50 rows)"],
        "importance": [
            {"column": "hr", "mean": 60.0, "std": 2.0},
            {"column": "temp", "mean": 10.0, "std": 1.0},
        ],
        "learning_curve": {
            "sizes": [100, 200, 400],
            "train": [10.0, 12.0, 13.0],
            "valid": [120.0, 100.0, 90.0],
            "verdict": "More data would likely help.",
        },
        "champion": None,
        "gates": [
            {
                "name": "r2 >= 0.5",
                "kind": "metric",
                "passed": True,
                "observed": 0.8,
                "threshold": 0.5,
                "reason": "r2 is 0.8",
            }
        ],
        "registered": {"uri": "models:/m/1", "aliases": ["champion", "challenger"]},
        "steps": [{"name": "split", "status": "cached", "cached": True, "duration": 0.01}],
        "timing": {"total": 0.5, "cache_hits": 1, "steps": 1},
        "error": None,
    }
    base.update(changes)
    return base


def test_every_section_renders_and_text_is_escaped() -> None:
    html = render_run_report(summary())
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
    assert "&lt;b&gt;proj&lt;/b&gt;" in html and "predict &amp; explain" in html
    for text in (
        "d@2",
        "ridge ★",
        "ridge won: best of 1 candidates.",
        "overfitting",
        "season = 1: rmse 120",
        "More data would likely help.",
        "r2 &gt;= 0.5",
        "models:/m/1",
        "1 of 1 steps were cache hits",
        "time-ordered",
    ):
        assert text in html, text
    assert html.count("<svg") == 3  # leaderboard, importance, learning curve


def test_given_figures_are_inlined_and_replace_drawn_ones() -> None:
    html = render_run_report(summary(), {"importance": '<svg id="mpl-importance"></svg>'})
    assert '<svg id="mpl-importance"></svg>' in html
    assert html.count("<svg") == 3


def test_failed_run_without_selection_still_renders() -> None:
    s = summary(
        leaderboard=[],
        choice=None,
        holdout=None,
        slices=[],
        importance=[],
        learning_curve=None,
        gates=[],
        registered=None,
        status="failed",
        error="The run stopped at validate_data",
        outcome={"ok": False, "message": "stopped"},
    )
    html = render_run_report(s)
    assert "No gates ran." in html and "no model version registered" in html
    assert "The run stopped at validate_data" in html


def test_write_is_atomic_and_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "reports" / "run.html"
    write_run_report(summary(), target)
    assert target.stat().st_mode & 0o444 == 0o444
    before = target.read_text(encoding="utf-8")

    def broken(*_: object, **__: object) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr("sluice.reports.run_report.render_run_report", broken)
    with pytest.raises(RuntimeError):
        write_run_report(summary(), target)
    assert target.read_text(encoding="utf-8") == before
    assert [p.name for p in target.parent.iterdir()] == ["run.html"]


def test_the_leaderboard_chart_keeps_the_sign_of_scores() -> None:
    board = [
        dict(row, cv_mean=score)
        for row, score in zip(summary()["leaderboard"], (0.8, -0.25), strict=True)
    ]
    html = render_run_report(summary(metric="r2", leaderboard=board))
    assert ">-0.25</text>" in html  # a baseline worse than the mean is not shown as 0.25
    assert ">0.25</text>" not in html
