"""The drift report: rendered from a stored summary alone, self-contained, escaped."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from sluice.monitoring import MonitorSettings
from sluice.monitoring.evaluate import Baseline, WindowData, evaluate_window
from sluice.registry.register import jsonable
from sluice.reports.drift_report import (
    CURRENT_COLOR,
    REFERENCE_COLOR,
    distribution_chart,
    render_drift_report,
)

HOSTILE = "<script>alert('x')</script>"


def _summary() -> dict:
    rng = np.random.default_rng(3)
    reference = pd.DataFrame(
        {HOSTILE: rng.normal(0, 1, 3000), "city": rng.choice(["Oslo", "Lima"], 3000)}
    )
    current = pd.DataFrame(
        {HOSTILE: rng.normal(2, 1, 400), "city": rng.choice(["Oslo", "<i>Rome</i>"], 400)}
    )
    base = Baseline(
        model="m",
        version=2,
        task="regression",
        reference=reference,
        reference_name="cities@1",
        kinds={HOSTILE: "numeric", "city": "categorical"},
    )
    evaluation = evaluate_window(
        WindowData(0.0, 86400.0, "1d", current), base, MonitorSettings(), monitor="cities"
    )
    # what the store gives back: JSON, non-finite numbers as null
    return json.loads(json.dumps(jsonable(evaluation.summary)))


def test_the_page_holds_the_verdict_table_and_one_chart_per_column() -> None:
    summary = _summary()
    html = render_drift_report(summary)
    assert summary["status"] == "drift"
    assert summary["verdict"] in html.replace("&#39;", "'").replace("&lt;", "<").replace(
        "&gt;", ">"
    )
    assert html.count("<svg") == 2
    assert html.count(REFERENCE_COLOR) > 2 and html.count(CURRENT_COLOR) > 2
    assert "Window <b>1d</b>: 1970-01-01 00:00:00 UTC to 1970-01-02 00:00:00 UTC" in html
    assert "cities@1" in html and "benjamini-hochberg" in html
    assert "<script" not in html and "<i>Rome" not in html
    assert "&lt;script&gt;" in html and "&lt;i&gt;Rome&lt;/i&gt;" in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")


def test_an_insufficient_window_renders_without_tables() -> None:
    summary = _summary()
    summary.update(status="insufficient", verdict="Insufficient data: empty window.")
    summary.update(data_drift=None, distributions={}, findings=[], performance=None)
    html = render_drift_report(summary)
    assert "Insufficient data: empty window." in html and "<svg" not in html


def test_a_chart_needs_matching_series() -> None:
    assert distribution_chart("x", {"kind": "numeric", "reference": [], "current": []}) == ""
    chart = distribution_chart(
        "x", {"kind": "categorical", "labels": ["a", "b"], "reference": [0.5, 0.5],
              "current": [1.0, 0.0]}
    )  # fmt: skip
    assert chart.count("<rect") == 2 + 4  # legend and bars
