"""Gate verdicts saved per pipeline run, linked to the version, read back (SQLite, PostgreSQL)."""

from __future__ import annotations

import time
import uuid

import pytest

from sluice.gates import (
    GateContext,
    evaluate_gates,
    gate_results_for,
    link_gate_results,
    parse_gates,
    save_gate_results,
)
from sluice.store import tables as t
from sluice.workspace import Workspace


def pipeline_run(ws: Workspace) -> str:
    run_id = uuid.uuid4().hex
    row = {
        "id": run_id,
        "pipeline": "tabular",
        "status": "running",
        "params": {},
        "created_at": time.time(),
    }
    with ws.store.write() as conn:
        conn.execute(t.pipeline_runs.insert().values(**row, executor="local"))
    return run_id


def model_version(ws: Workspace) -> int:
    from sluice.registry import register_version

    mv = register_version(
        ws, "m", model_bytes=b"not read here", signature={}, params={}, metrics={}
    )
    return mv.id


def test_round_trip_and_link(any_ws: Workspace) -> None:
    ctx = GateContext(task="regression", metrics={"rmse": 80.0}, baseline_metrics={"rmse": 100.0})
    specs = parse_gates(
        [
            {"kind": "metric", "metric": "rmse", "max": 120},
            {"kind": "beats_baseline", "metric": "rmse", "margin": 0.5},
            {"kind": "no_regression", "metric": "rmse"},
        ]
    )
    results = evaluate_gates(specs, ctx)
    run_id, other_run = pipeline_run(any_ws), pipeline_run(any_ws)
    save_gate_results(any_ws, results, pipeline_run_id=run_id)
    save_gate_results(any_ws, results[:1], pipeline_run_id=other_run)
    assert gate_results_for(any_ws, pipeline_run_id=run_id) == results
    assert [r.passed for r in results] == [True, False, True]

    version_id = model_version(any_ws)
    assert gate_results_for(any_ws, model_version_id=version_id) == []
    assert link_gate_results(any_ws, pipeline_run_id=run_id, model_version_id=version_id) == 3
    assert gate_results_for(any_ws, model_version_id=version_id) == results
    assert gate_results_for(any_ws, pipeline_run_id=other_run, model_version_id=version_id) == []


def test_saving_nothing_is_a_no_op_and_a_query_needs_a_key(any_ws: Workspace) -> None:
    save_gate_results(any_ws, [], pipeline_run_id=None)
    with pytest.raises(ValueError, match="needs pipeline_run_id or model_version_id"):
        gate_results_for(any_ws)
