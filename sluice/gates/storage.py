"""Storing gate verdicts and reading them back, by pipeline run or by model version.

Gates run before a model is registered (a failed gate registers nothing), so the
verdicts are saved against the pipeline run first and linked to the version once
it exists.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa

from sluice.gates.results import GateResult
from sluice.store import tables as t
from sluice.workspace import Workspace

_G = t.gate_results


def save_gate_results(
    ws: Workspace,
    results: Sequence[GateResult],
    *,
    pipeline_run_id: str | None,
    model_version_id: int | None = None,
) -> None:
    """Store every verdict in one transaction."""
    if not results:
        return
    now = time.time()
    rows = [
        {
            "pipeline_run_id": pipeline_run_id,
            "model_version_id": model_version_id,
            "gate": r.gate,
            "kind": r.kind,
            "passed": r.passed,
            "observed": r.observed,
            "threshold": r.threshold,
            "reason": r.reason,
            "created_at": now,
        }
        for r in results
    ]
    with ws.store.write() as conn:
        conn.execute(_G.insert(), rows)


def link_gate_results(ws: Workspace, *, pipeline_run_id: str, model_version_id: int) -> int:
    """Attach the verdicts of a pipeline run to the version it registered; how many were linked."""
    with ws.store.write() as conn:
        done = conn.execute(
            _G.update()
            .where(_G.c.pipeline_run_id == pipeline_run_id, _G.c.model_version_id.is_(None))
            .values(model_version_id=model_version_id)
        )
        return int(done.rowcount)


def gate_results_for(
    ws: Workspace, pipeline_run_id: str | None = None, model_version_id: int | None = None
) -> list[GateResult]:
    """Verdicts of a pipeline run and/or a model version, in the order they were saved."""
    if pipeline_run_id is None and model_version_id is None:
        raise ValueError("gate_results_for needs pipeline_run_id or model_version_id")
    query = sa.select(_G).order_by(_G.c.id)
    if pipeline_run_id is not None:
        query = query.where(_G.c.pipeline_run_id == pipeline_run_id)
    if model_version_id is not None:
        query = query.where(_G.c.model_version_id == model_version_id)
    with ws.store.read() as conn:
        return [GateResult.from_dict(dict(row)) for row in conn.execute(query).mappings()]
