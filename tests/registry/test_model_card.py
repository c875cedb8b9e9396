"""Model cards from a real evaluation, stored lineage and gate verdicts, in Markdown and HTML."""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import Any

import pytest

from sluice.errors import ConfigError
from sluice.gates import (
    GateContext,
    evaluate_gates,
    link_gate_results,
    parse_gates,
    save_gate_results,
)
from sluice.models.persistence import dumps
from sluice.models.signature import infer_signature
from sluice.registry import ModelVersion, register_version, resolve
from sluice.reports.model_card import CardInputs, card_inputs, render_model_card, save_model_card
from sluice.store import tables as t
from sluice.workspace import Workspace
from tests.registry.conftest import Trained

OBJECTIVE = "Forecast hourly rentals so vans can <rebalance> stations before the rush."
WARNING = {
    "column": "windspeed",
    "kind": "out_of_range",
    "severity": "warning",
    "observed": 0.9,
    "expected": 0.85,
    "message": "3 values above the training maximum 0.85",
}


def lineage_rows(ws: Workspace) -> tuple[int, str]:
    now = time.time()
    run_id = uuid.uuid4().hex
    with ws.store.write() as conn:
        ds = conn.execute(
            t.datasets.insert().values(name="bikes", created_at=now).returning(t.datasets.c.id)
        ).scalar_one()
        dv = conn.execute(
            t.dataset_versions.insert().values(
                dataset_id=ds, version=2, content_hash="ab" * 32, source_uri="data/hour.csv",
                format="csv", size_bytes=100, n_rows=4000, n_cols=8, schema={}, profile={},
                created_at=now,
            ).returning(t.dataset_versions.c.id)
        ).scalar_one()  # fmt: skip
        conn.execute(
            t.pipeline_runs.insert().values(
                id=run_id,
                pipeline="tabular",
                status="succeeded",
                params={},
                executor="local",
                created_at=now,
            )
        )
    return int(dv), run_id


@pytest.fixture
def evaluated(trained: Trained) -> dict[str, Any]:
    from sluice.models.evaluation import EvaluationSettings, evaluate

    settings = EvaluationSettings(
        plots=False, learning_curve=False, importance_repeats=1, importance_max_rows=200
    )
    result = evaluate(
        trained.model,
        trained.baseline,
        trained.X_train,
        trained.y_train,
        trained.X_test,
        trained.y_test,
        task="regression",
        metric="rmse",
        settings=settings,
    )
    return result.to_dict()


@pytest.fixture
def version(any_ws: Workspace, trained: Trained, evaluated: dict[str, Any]) -> ModelVersion:
    dv, run_id = lineage_rows(any_ws)
    ctx = GateContext(
        task="regression",
        metrics=evaluated["metrics"],
        baseline_metrics=evaluated["baseline_metrics"],
    )
    specs = parse_gates(
        [{"kind": "beats_baseline", "metric": "rmse", "margin": 0.2}, {"kind": "validation"}]
    )
    save_gate_results(any_ws, evaluate_gates(specs, ctx), pipeline_run_id=run_id)
    mv = register_version(
        any_ws,
        "bike-demand",
        model_bytes=dumps(trained.model),
        signature=infer_signature(trained.X_train, trained.model, task="regression"),
        dataset_version_id=dv,
        pipeline_run_id=run_id,
        params={"max_iter": 60},
        metrics=evaluated["metrics"],
        seed=7,
        duration=2.5,
        extra={"objective": OBJECTIVE, "evaluation": evaluated, "validation_warnings": [WARNING]},
    )
    link_gate_results(any_ws, pipeline_run_id=run_id, model_version_id=mv.id)
    return mv


def test_markdown_card_has_every_section(
    any_ws: Workspace, version: ModelVersion, evaluated: dict[str, Any]
) -> None:
    md = render_model_card(version, card_inputs(any_ws, version), fmt="md")
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Intended use",
        "## Training data",
        "## Metrics on the holdout (selection metric: rmse)",
        "## Slices",
        "## Limitations",
        "## Gate verdicts",
        "## Accountability",
        "## Monitoring",
        "## Lineage",
        "## Environment",
    ]
    assert md.startswith("# Model card: bike-demand version 1\n")
    assert OBJECTIVE in md, "Markdown keeps the text as written"
    assert f"Dataset **bikes** version 2: 4000 rows, 8 columns, content hash `{'ab' * 32}`" in md
    rmse, base = evaluated["metrics"]["rmse"], evaluated["baseline_metrics"]["rmse"]
    assert f"| rmse | {rmse:.4g} | {base:.4g} | {rmse - base:+.4g} |" in md
    assert "| season | categorical (str) |" in md
    assert "\nOutput: regression.\n" in md
    for line in evaluated["weakest_slices"]:
        assert f"- {line}" in md
    assert "| weathersit | rain | 75 |" in md
    assert "- out_of_range (column 'windspeed': 3 values above the training maximum 0.85)" in md
    assert "| beats baseline on rmse | passed |" in md and "| validation | FAILED |" in md
    assert (
        f"dataset bikes@2 ({'ab' * 6}) → pipeline run {version.pipeline_run_id} → "
        f"models:/bike-demand/1 (artifact {version.artifact_hash[:12]})"
    ) in md
    code = f"git commit `{version.git_commit}`" if version.git_commit else "not in a git repository"
    assert f"- code: {code}" in md
    assert "- seed: 7; training took 2.5 s" in md


def test_html_card_is_escaped_and_stored(any_ws: Workspace, version: ModelVersion) -> None:
    html = render_model_card(version, card_inputs(any_ws, version), fmt="html")
    assert html.startswith("<!doctype html>")
    assert "vans can &lt;rebalance&gt; stations" in html and "<rebalance>" not in html
    assert '<td class="fail">FAILED</td>' in html
    address = save_model_card(any_ws, version)
    assert resolve(any_ws, version.uri).card_hash == address
    assert any_ws.get(address).decode() == html


def test_a_bare_version_still_gets_an_honest_card(any_ws: Workspace) -> None:
    mv = register_version(any_ws, "bare", model_bytes=b"x", signature={}, params={}, metrics={})
    md = render_model_card(mv, CardInputs())
    assert "No objective was recorded for this model." in md
    assert "No dataset version was recorded." in md
    assert "No metrics were recorded." in md
    assert "No gates were recorded for this version." in md
    assert "No warnings were found in validation or evaluation." in md
    assert "Output:" not in md


def test_a_commit_whose_dirty_state_is_unknown_is_not_called_clean(
    any_ws: Workspace, version: ModelVersion
) -> None:
    commit = "c" * 40
    unknown = dataclasses.replace(version, git_commit=commit, git_dirty=None)
    assert f"- code: git commit `{commit}` (uncommitted changes unknown)\n" in render_model_card(
        unknown
    )
    clean = dataclasses.replace(unknown, git_dirty=False)
    assert f"- code: git commit `{commit}`\n" in render_model_card(clean)


def test_a_classifier_card_names_its_classes(any_ws: Workspace) -> None:
    output = {"task": "classification", "classes": ["busy", "quiet"]}
    mv = register_version(
        any_ws,
        "busy",
        model_bytes=b"x",
        signature={"inputs": [], "output": output},
        params={},
        metrics={},
    )
    assert "<p>Output: classification of 2 classes (busy, quiet).</p>" in render_model_card(
        mv, fmt="html"
    )


def test_unknown_format_is_refused(any_ws: Workspace) -> None:
    mv = register_version(any_ws, "bare", model_bytes=b"x", signature={}, params={}, metrics={})
    with pytest.raises(ConfigError) as info:
        render_model_card(mv, fmt="htm")
    assert str(info.value) == (
        "Expected a card format among md, html, json; got 'htm'. Did you mean 'html'? "
        "Use --format md, html or json."
    )
