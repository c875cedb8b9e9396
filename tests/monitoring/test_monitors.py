"""Monitors end to end: a real model of the bike data, real predictions in the real log.

July 2012 against a model trained on 2011 must alert (warmer, busier, all summer);
rows drawn from 2011 itself must not. Windows are evaluated once, in order.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sluice.data import add_version
from sluice.errors import MonitorError
from sluice.monitoring import (
    DriftSettings,
    MonitorSettings,
    Status,
    alerts_of,
    create_monitor,
    get_monitor,
    latest_results,
    list_monitors,
    run_monitor,
)
from sluice.monitoring.monitor_store import insert_result
from sluice.reports.drift_report import render_drift_report
from sluice.workspace import Workspace
from tests.monitoring.bikes import (
    AUG_2012,
    FEATURES,
    JAN_2013,
    MODEL,
    drawn_from_2011,
    july_2012,
    log_rows,
    register,
    trained_2011,
)

AFTER_AUGUST = AUG_2012 + 21 * 86400  # three empty weeks after the last prediction


@pytest.fixture(scope="module")
def summer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """July 2012 logged hour by hour (one batch a day), with every label fed back."""
    folder = tmp_path_factory.mktemp("summer")
    ws = Workspace.at(folder / "home")
    register(ws, trained_2011(), folder)
    log_rows(ws, trained_2011().model, july_2012(), feedback=True)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def steady(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """2,100 rows drawn from the training data itself, logged in batches, with labels."""
    folder = tmp_path_factory.mktemp("steady")
    ws = Workspace.at(folder / "home")
    register(ws, trained_2011(), folder)
    log_rows(ws, trained_2011().model, drawn_from_2011(2100), feedback=True, batch=100)
    yield ws
    ws.close()


def test_a_drifted_summer_alerts_on_data_predictions_and_performance(summer: Workspace) -> None:
    create_monitor(summer, "weekly", model=f"{MODEL}@champion", window="1w")
    outcome = run_monitor(summer, "weekly", now=AFTER_AUGUST, render_report=render_drift_report)
    full_weeks = [r for r in outcome.results if r.rows == 7 * 24]
    assert len(full_weeks) >= 3
    for result in full_weeks:
        assert result.status is Status.DECAY, result.summary["verdict"]
        drift = result.summary["data_drift"]
        assert {"temp", "season", "dteday"} <= set(drift["drifted_columns"])
        assert "hr" not in drift["drifted_columns"], "the hours of a week are those of any week"
        assert result.summary["prediction_drift"]["drifted"]
        performance = result.summary["performance"]
        assert performance["metric"] == "rmse" and performance["decayed"]
        assert performance["value"] > 1.5 * performance["holdout"]
    kinds = {a.kind for a in outcome.alerts}
    assert {"prediction_drift", "performance_decay"} <= kinds
    assert kinds <= {"data_drift", "prediction_drift", "performance_decay"}
    assert all(a.actions == ({"type": "log", "ok": True},) for a in outcome.alerts)
    stored = alerts_of(summer, outcome.monitor, limit=1000)
    assert len(stored) == len(outcome.alerts)
    assert "Evaluated" in outcome.message and "decay" in outcome.message


def test_the_dataset_share_threshold_decides_data_drift(summer: Workspace) -> None:
    settings = MonitorSettings(drift=DriftSettings(dataset_share=0.3), alert_on=("data_drift",))
    create_monitor(summer, "sensitive", model=MODEL, window="1w", settings=settings)
    outcome = run_monitor(summer, "sensitive", now=AUG_2012)
    week = outcome.results[1]
    assert week.status is Status.DRIFT, week.summary["verdict"]
    assert week.summary["data_drift"]["drifted"]
    assert {a.kind for a in outcome.alerts} == {"data_drift"}
    alert = next(a for a in outcome.alerts if a.result_id == week.id)
    assert re.match(r"[3-9] of 9 compared columns drifted \(\d+%, threshold 30%\): ", alert.message)
    assert "temp" in alert.message


def test_rows_drawn_from_the_reference_raise_no_alert(steady: Workspace) -> None:
    create_monitor(steady, "blocks", model=MODEL, window="1000rows")
    outcome = run_monitor(steady, "blocks")
    assert [r.rows for r in outcome.results] == [1000, 1000], "two full blocks; 100 rows wait"
    for result in outcome.results:
        assert result.status is Status.OK, result.summary["verdict"]
        assert result.summary["data_drift"]["drifted_columns"] == []
        assert result.summary["new_categories"] == {}
        assert not result.summary["prediction_drift"]["drifted"]
        assert not result.summary["performance"]["decayed"]
        compared = {c["column"] for c in result.summary["data_drift"]["columns"]}
        assert compared == set(FEATURES), "the target is left out"
    assert outcome.alerts == ()
    assert outcome.results[0].window_start == JAN_2013


def test_each_window_is_evaluated_once_and_the_cursor_moves_on(steady: Workspace) -> None:
    create_monitor(steady, "once", model=MODEL, window="500rows")
    first = run_monitor(steady, "once")
    assert [r.rows for r in first.results] == [500] * 4
    assert first.monitor.cursor == pytest.approx(first.results[-1].window_end)
    again = run_monitor(steady, "once")
    assert again.results == ()
    assert again.message == "No window closed since the last run: waiting for 500 rows."
    assert get_monitor(steady, "once").cursor == first.monitor.cursor
    assert [r.id for r in latest_results(steady, first.monitor)] == [
        r.id for r in reversed(first.results)
    ]


def test_empty_and_tiny_windows_are_insufficient_not_alarms(summer: Workspace) -> None:
    settings = MonitorSettings()
    create_monitor(summer, "daily", model=MODEL, window="1d", settings=settings)
    outcome = run_monitor(summer, "daily", now=AFTER_AUGUST)
    by_status = {s: [r for r in outcome.results if r.status is s] for s in Status}
    assert len(by_status[Status.INSUFFICIENT]) == len(outcome.results), "24 rows a day < 30"
    day = outcome.results[0]
    assert day.rows == 24
    assert day.summary["verdict"] == (
        "Insufficient data: not enough data: 24 rows, need at least 30."
    )
    empty = [r for r in outcome.results if r.rows == 0]
    assert len(empty) == 21
    assert empty[0].summary["notes"] == ["empty window: no predictions were logged in it"]
    assert outcome.alerts == ()
    assert outcome.results[-1].window_end == AFTER_AUGUST


def test_the_stored_report_is_self_contained_html(summer: Workspace) -> None:
    create_monitor(summer, "report", model=MODEL, window="1w")
    outcome = run_monitor(summer, "report", now=AUG_2012, render_report=render_drift_report)
    result = outcome.results[1]
    assert result.report_hash is not None
    html = summer.get(result.report_hash).decode()
    assert html.startswith("<!doctype html>")
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert "Performance decay" in html
    assert html.count("<svg") == len(result.summary["distributions"]) + 1  # + predictions
    for column in ("temp", "season", "dteday", "weathersit"):
        assert f"<title>{column}: reference against current</title>" in html


def test_no_predictions_yet_is_a_message_not_an_error(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "home")
    register(ws, trained_2011(), tmp_path)
    create_monitor(ws, "quiet", model=MODEL)
    outcome = run_monitor(ws, "quiet")
    assert outcome.results == () and outcome.alerts == ()
    assert outcome.message == (
        "No predictions logged for model 'bike-demand' yet: nothing to evaluate. "
        "Serve it (`sluice serve models:/bike-demand@champion`) and run the monitor again."
    )
    assert [m.name for m in list_monitors(ws)] == ["quiet"]
    ws.close()


def test_two_runs_at_once_never_store_a_window_twice(steady: Workspace) -> None:
    create_monitor(steady, "racing", model=MODEL, window="250rows")
    home = Path(steady.settings.home)
    errors: list[BaseException] = []

    def run() -> None:
        ws = Workspace.at(home)
        try:
            run_monitor(ws, "racing")
        except MonitorError as exc:
            errors.append(exc)
        finally:
            ws.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = latest_results(steady, get_monitor(steady, "racing"), limit=100)
    ends = [r.window_end for r in stored]
    assert len(ends) == len(set(ends)) == 7, "blocks of 3 batches of 100 rows"
    for exc in errors:
        assert "another run of the same monitor evaluated it first" in str(exc)


def test_a_stale_cursor_stores_nothing(steady: Workspace) -> None:
    stale = create_monitor(steady, "stale", model=MODEL, window="1000rows")
    run_monitor(steady, "stale")
    with pytest.raises(MonitorError) as caught:
        insert_result(steady, stale, status=Status.OK, window_start=0.0, window_end=1.0, rows=0,
                      summary={}, model_version=1, report_hash=None, cursor=1.0)  # fmt: skip
    assert str(caught.value) == (
        "Expected to evaluate the window of monitor 'stale' ending at 1.0; another run of the "
        "same monitor evaluated it first. Nothing was stored twice; run one `sluice monitor run` "
        "at a time per monitor."
    )
    assert len(latest_results(steady, stale)) == 2


def test_a_reference_without_a_column_the_model_needs_is_stated(
    summer: Workspace, tmp_path: Path
) -> None:
    narrow = trained_2011().train.drop(columns=["holiday"])
    narrow.to_csv(tmp_path / "narrow.csv", index=False)
    add_version(summer, tmp_path / "narrow.csv", "bikes-narrow", target="cnt")
    create_monitor(summer, "narrow", model=MODEL, window="1w", reference="bikes-narrow@1")
    outcome = run_monitor(summer, "narrow", now=AUG_2012)
    week = outcome.results[1]
    assert week.summary["reference"]["name"] == "bikes-narrow@1"
    assert week.summary["data_drift"]["only_in_current"] == ["holiday"]
    assert "column 'holiday' is in the window but not in the reference" in week.summary["notes"]
    assert week.summary["prediction_drift"] is None
    note = next(n for n in week.summary["notes"] if n.startswith("prediction drift"))
    assert note.startswith(
        "prediction drift not measured: the model could not predict on the reference data: "
        "Expected input columns that match the model's signature; got: missing column 'holiday'"
    )
    assert week.status is Status.DECAY, "performance still judged from the labels"


def test_monitors_results_and_alerts_on_sqlite_and_postgresql(
    any_ws: Workspace, tmp_path: Path
) -> None:
    register(any_ws, trained_2011(), tmp_path)
    log_rows(any_ws, trained_2011().model, july_2012().iloc[:480], feedback=True)
    create_monitor(any_ws, "blocks", model=MODEL, window="240rows")
    outcome = run_monitor(any_ws, "blocks", render_report=render_drift_report)
    assert [r.status for r in outcome.results] == [Status.DECAY, Status.DECAY]
    monitor = get_monitor(any_ws, "blocks")
    assert monitor.cursor == outcome.results[-1].window_end
    stored = latest_results(any_ws, monitor)
    assert [r.id for r in stored] == [r.id for r in reversed(outcome.results)]
    assert stored[0].summary == outcome.results[-1].summary
    assert any_ws.get(stored[0].report_hash or "").startswith(b"<!doctype html>")
    assert {a.id for a in alerts_of(any_ws, monitor)} == {a.id for a in outcome.alerts}
    assert run_monitor(any_ws, "blocks").results == ()


def test_a_window_of_two_versions_is_judged_by_the_majority_and_says_so(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "home")
    register(ws, trained_2011(), tmp_path)
    assert register(ws, trained_2011(), tmp_path).version == 2
    rows = drawn_from_2011(500, seed=4)
    log_rows(ws, trained_2011().model, rows.iloc[:200], version=1, batch=100)
    log_rows(ws, trained_2011().model, rows.iloc[200:], version=2, batch=100)
    create_monitor(ws, "mixed", model=MODEL, window="500rows")
    (result,) = run_monitor(ws, "mixed").results
    assert result.model_version == 2 and result.summary["model_version"] == 2
    assert result.summary["notes"][0] == (
        "the window holds predictions of versions 1, 2: inputs of all of them are compared; "
        "predictions and performance of version 2 only"
    )
    assert result.summary["prediction_drift"]["n_current"] == 300, "version 2's predictions"
    assert result.summary["data_drift"]["columns"][0]["n_current"] == 500, "every row's inputs"
    ws.close()
