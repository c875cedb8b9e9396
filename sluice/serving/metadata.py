"""What ``GET /metadata`` says about the served version: signature, version and lineage."""

from __future__ import annotations

from typing import Any

from sluice.serving.holder import Served
from sluice.serving.settings import ServeSettings
from sluice.workspace import Workspace


def describe(ws: Workspace, served: Served, settings: ServeSettings) -> dict[str, Any]:
    """The served version as JSON: enough to trace any prediction back to data and code."""
    from sluice.registry import resolve
    from sluice.reports.model_card import training_data

    mv = served.loaded.model_version
    aliases = list(resolve(ws, mv.uri).aliases)  # current aliases, not those at load time
    data = training_data(ws, mv.dataset_version_id)
    dataset = (
        {
            "id": mv.dataset_version_id,
            "name": data["name"],
            "version": data["version"],
            "content_hash": data["content_hash"],
            "rows": data["n_rows"],
        }
        if data
        else None
    )
    return {
        "model": {"name": mv.name, "version": mv.version, "uri": mv.uri},
        "serving": settings.uri,
        "aliases": aliases,
        "flavor": mv.flavor,
        "task": (mv.signature.get("output") or {}).get("task"),
        "classes": served.classes,
        "signature": dict(mv.signature),
        "unknown_categories": settings.unknown_categories,
        "lineage": {
            "dataset": dataset,
            "pipeline_run_id": mv.pipeline_run_id,
            "run_id": mv.run_id,
            "git_commit": mv.git_commit,
            "git_dirty": mv.git_dirty,
            "artifact_hash": mv.artifact_hash,
        },
        "metrics": dict(mv.metrics),
        "params": dict(mv.params),
        "created_at": mv.created_at,
    }
