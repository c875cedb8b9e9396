"""The dashboard in a real browser (Debian's Chromium, driven by Playwright) against a
real ``sluice server`` whose store was filled by running the real pipeline.

Screenshots of each page land in ``test-artifacts/ui/`` for a reviewer to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sluice.config import Settings
from sluice.data import add_version
from sluice.governance import add_user, create_project, create_token, request_alias
from sluice.templates.tabular.demo import bundled_data, run_demo
from sluice.workspace import Workspace
from tests.server.test_team_server import Team, start_server, stop_server
from tests.templates.jobs import FAST_DEMO

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)"),
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    home = tmp_path_factory.mktemp("ui") / "home"
    assert run_demo(home, overrides=FAST_DEMO).exit_code == 0
    other = {
        **FAST_DEMO,
        "selection": {**FAST_DEMO["selection"], "cv_folds": 3},
        "model": {"name": "bike-demand-b"},
    }
    assert run_demo(home, overrides=other).exit_code == 0  # a second run to compare
    ws = Workspace(Settings.at(home))
    try:
        create_project(
            ws, "bike-demand", objective="Hourly rentals, a day ahead", target="rmse <= 70",
            owner="ada", model="bike-demand", dataset="bike-sharing-hour",
        )  # fmt: skip
        tokens = {}
        users = (("root", "admin"), ("ada", "scientist"), ("val", "viewer"), ("bob", "approver"))
        for name, role in users:
            add_user(ws, name, role)
            tokens[role] = create_token(ws, name)[1]
        request_alias(ws, "bike-demand", 1, "production", "first model", requester="ada")
        request_alias(ws, "bike-demand", 1, "canary", "try it on 5 %", requester="ada")
        _watch_2012(ws)
        summer = home.parent / "bike-sharing-2012.csv"
        frame = pd.read_csv(bundled_data())
        frame[frame["yr"] == 1].head(2000).to_csv(summer, index=False)
        add_version(ws, summer, "bike-sharing-hour", target="cnt")  # version 2, to compare
    finally:
        ws.close()
    running = start_server(home, None)  # the store has users: no first-start admin
    running.tokens.update(tokens)
    try:
        yield running
    finally:
        stop_server(running)


def _watch_2012(ws: Workspace) -> None:
    """600 hours of 2012 scored by version 1 and labelled, and a monitor run over them."""
    import time
    import uuid

    from sluice.data.read import read_table
    from sluice.monitoring import create_monitor, run_monitor
    from sluice.predictions import PredictionLog
    from sluice.registry import load_model
    from sluice.reports.drift_report import render_drift_report
    from sluice.templates.tabular.demo import bundled_data

    loaded = load_model("models:/bike-demand/1", workspace=ws)
    frame = read_table(bundled_data())
    rows = frame[frame["yr"] == 1].head(600).reset_index(drop=True)
    inputs = rows[loaded.signature.names]
    ids = [uuid.uuid4().hex for _ in range(len(rows))]
    start = time.time() - 86400
    with PredictionLog(ws, "bike-demand", flush_interval=60.0) as log:
        for i in range(0, len(rows), 50):
            part = inputs.iloc[i : i + 50].reset_index(drop=True)
            log.append(
                part,
                request_ids=ids[i : i + 50],
                model_version=1,
                predictions=loaded.predict(part),
                timestamp=start + i * 60,
            )
        log.append_feedback(request_ids=ids, labels=rows["cnt"].tolist())
    create_monitor(ws, "watch", model="bike-demand@champion", window="200rows")
    assert len(run_monitor(ws, "watch", render_report=render_drift_report).results) == 3


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def _signed_in(browser: Any, team: Team, who: str, start: str = "/ui/runs") -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(team.url + start)
    assert "/ui/login" in page.url, "a page needs a token first"
    page.fill("#token", team.tokens[who])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_every_page_shows_the_stores_real_contents(browser: Any, team: Team) -> None:
    page = _signed_in(browser, team, "admin")
    assert page.url.endswith("/ui/runs"), "back where the sign-in began"
    assert page.locator("h1").inner_text() == "Pipeline runs"
    assert page.locator("tbody tr").count() == 2
    assert "completed" in page.locator("tbody tr").first.inner_text()
    _shot(page, "runs")
    page.click("thead >> text=duration")
    assert "sort=duration" in page.url and "order=desc" in page.url
    longest = [float(t.split()[0]) for t in page.locator("tbody td.num >> nth=0").all_inner_texts()]
    page.click("thead >> text=duration")
    assert "order=asc" in page.url
    assert page.locator("th[aria-sort=ascending]").count() == 1
    durations = page.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => parseFloat(r.querySelectorAll('td.num')[0].textContent))"
    )
    assert durations == sorted(durations) and longest[0] == max(durations)

    page.goto(team.url + "/ui/")
    card = page.locator("section.card").first
    assert "bike-demand" in card.inner_text() and "Hourly rentals, a day ahead" in card.inner_text()
    assert "#1 v1 → production by ada" in card.inner_text()
    assert "meets the target" in card.inner_text() or "misses the target" in card.inner_text()
    _shot(page, "projects")

    page.goto(team.url + "/ui/models")
    page.click("a[href='/ui/models/bike-demand']")
    assert page.url.endswith("/ui/models/bike-demand")
    page.click("td.num a >> text=1")
    assert page.url.endswith("/ui/models/bike-demand/1")
    lineage = page.locator("[aria-label=lineage]").inner_text()
    assert "bike-sharing-hour@1" in lineage and "models:/bike-demand/1" in lineage
    assert page.locator("text=passed").count() >= 1, "the gate verdicts are shown"
    drawn = page.locator("[aria-label='lineage graph'] svg")
    assert drawn.locator("rect").count() == 6, "dataset, run, version, 2 aliases, monitor"
    assert "monitor watch" in drawn.inner_html() and "@champion" in drawn.inner_html()
    _shot(page, "version")

    page.click("[aria-label=lineage] >> text=bike-sharing-hour@1")
    assert page.url.endswith("/ui/datasets/bike-sharing-hour/1")
    assert "8,645 × 17" in page.locator("dl").inner_text()
    assert page.locator("tbody tr").count() == 17, "one row per column"
    _shot(page, "dataset")

    page.go_back()
    page.click("[aria-label=lineage] a >> nth=1")
    assert "/ui/runs/" in page.url
    steps = page.locator("tbody tr[id^=step-]")
    assert steps.count() == 10 and "select_model" in page.locator("#step-select_model").inner_text()
    split_row = page.locator("#step-split").inner_text()
    assert "from clean" in split_row and "to select_model" in split_row, "inputs and outputs link"
    graph = page.locator("[aria-label='step graph'] svg")
    assert graph.locator("rect").count() == 10, "a box per step"
    assert graph.locator("line").count() >= 9, "every step but the first reads another's output"
    _shot(page, "run")

    page.goto(team.url + "/ui/audit")
    assert "The chain is intact" in page.locator("[role=status]").inner_text()
    page.fill("#actor", "ada")
    page.click("text=Filter")
    assert "actor=ada" in page.url
    assert page.locator("tbody tr").count() == 2, "ada asked twice: production and canary"
    _shot(page, "audit")

    page.goto(team.url + "/ui/models/bike-demand/1/card")
    assert "Model card" in page.title() or "bike-demand" in page.content()
    page.close()


def test_pages_are_reachable_by_keyboard_and_say_what_is_missing(browser: Any, team: Team) -> None:
    page = _signed_in(browser, team, "viewer", start="/ui/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Projects", "the first tab stop is the navigation"
    page.goto(team.url + "/ui/runs?status=failed")
    assert "No runs match." in page.locator(".empty").inner_text()
    page.goto(team.url + "/ui/models/nope")
    assert page.locator("h1").inner_text() == "Not found"
    assert "nope" in page.locator("[role=alert]").inner_text()
    page.close()


def test_a_bad_token_is_refused_with_the_reason(browser: Any, team: Team) -> None:
    page = browser.new_page()
    page.goto(team.url + "/ui/login")
    page.fill("#token", "slc_" + "x" * 43)
    page.click("button[type=submit]")
    assert "/ui/login" in page.url
    assert "not valid" in page.locator("[role=alert]").inner_text()
    page.close()


def test_an_approver_decides_in_the_inbox_and_a_viewer_is_refused(browser: Any, team: Team) -> None:
    from sluice.server.ui import csrf

    viewer = _signed_in(browser, team, "viewer", start="/ui/inbox")
    assert "Your role (viewer) may not decide requests" in viewer.content()
    assert viewer.locator("button[value=approve]").count() == 0
    forged = viewer.request.post(
        team.url + "/ui/requests/2/review",
        form={"decision": "approve", "comment": "", "csrf": csrf(team.tokens["viewer"])},
    )
    assert forged.status == 403 and "(approvals.review)" in forged.text()
    viewer.close()

    page = _signed_in(browser, team, "approver", start="/ui/inbox")
    card = page.locator("section.card", has_text="→ canary")
    assert "try it on 5 %" in card.inner_text()
    assert "beats baseline on rmse: passed" in card.inner_text(), "the evidence is on the card"
    _shot(page, "inbox")
    card.locator("textarea").fill("fine for a canary")
    card.locator("button[value=approve]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/ui/inbox?done=2")
    assert "bike-demand@canary is now version 1" in page.locator("[role=status]").inner_text()
    assert page.locator("section.card", has_text="→ canary").count() == 0, "no longer open"
    stale = page.request.post(
        team.url + "/ui/requests/1/review", form={"decision": "approve", "csrf": "forged"}
    )
    assert stale.status == 403 and "stale or came from another site" in stale.text()
    page.goto(team.url + "/ui/models/bike-demand/1")
    assert "canary" in page.locator("[aria-label=lineage]").inner_text()
    page.close()


def test_two_runs_side_by_side(browser: Any, team: Team) -> None:
    page = _signed_in(browser, team, "viewer", start="/ui/runs")
    page.click("text=Compare selected runs")
    assert page.locator("h1").inner_text() == "Cannot show this", "fewer than two runs"
    assert "Expected two to 5 runs to compare; got 0" in page.locator("[role=alert]").inner_text()
    page.go_back()
    for box in page.locator("input[name=run]").all():
        box.check()
    page.click("text=Compare selected runs")
    assert page.locator("h1").inner_text() == "Compare 2 runs"
    differing = page.locator("tr[aria-label=differs]").all_inner_texts()
    assert any("model_name" in row and "bike-demand-b" in row for row in differing)
    assert any("selection" in row and '"cv_folds": 3' in row for row in differing)
    assert not any(row.startswith("≠ content_hash") for row in differing), "same data"
    metrics = page.locator("h2:has-text('Metrics') + table").inner_text()
    assert "hist_gradient_boosting" in metrics and "cv_rmse" in metrics
    assert page.locator("figure svg polyline").count() >= 2, "fold scores drawn per run"
    _shot(page, "compare")
    page.close()


def test_a_monitors_windows_over_time_and_a_windows_distributions(browser: Any, team: Team) -> None:
    page = _signed_in(browser, team, "viewer", start="/ui/monitors")
    assert "models:/bike-demand@champion" in page.locator("tbody").inner_text()
    page.click("text=watch")
    assert page.url.endswith("/ui/monitors/watch")
    assert page.locator("figure svg").count() == 2, "drift and performance over time"
    assert "rmse in production" in page.locator("figure").nth(1).inner_text()
    windows = page.locator("tbody tr")
    assert windows.count() == 3 and "decay" in windows.first.inner_text()
    assert "performance_decay" in page.content()
    _shot(page, "monitor")
    windows.first.locator("text=distributions").click()
    assert "/ui/monitors/watch/results/" in page.url
    assert page.locator("svg").count() > 5, "a distribution per feature"
    _shot(page, "drift-window")
    page.close()


def test_a_datasets_columns_their_changes_and_their_anomalies(browser: Any, team: Team) -> None:
    page = _signed_in(browser, team, "viewer", start="/ui/datasets/bike-sharing-hour/2")
    assert "2,000 × 17" in page.locator("dl").inner_text()
    assert page.locator("tbody svg").count() >= 15, "a small picture per column"
    _shot(page, "dataset-2")
    page.select_option("#a", "1")
    page.click("text=Show the differences")
    assert page.url.endswith("/ui/datasets/bike-sharing-hour/diff?b=2&a=1")
    assert "rows 8,645 → 2,000" in page.content().replace("\u202f", " ")
    assert page.locator("tbody tr").count() > 0, "statistics that moved"
    _shot(page, "dataset-diff")
    page.goto(team.url + "/ui/datasets/bike-sharing-hour/2")
    page.click("text=Validate this version")
    status = page.locator("[role=status]").inner_text()
    assert "against bike-sharing-hour@2" in status and "on 2,000 rows" in status
    assert "constant_column" in page.locator("tbody").inner_text(), "yr is 1 in every row"
    page.close()
