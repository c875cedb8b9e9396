"""The model card with what governance knows: the project that owns the model and the
approval history of the version."""

from __future__ import annotations

from dataclasses import replace

from sluice.governance.approvals import history
from sluice.governance.projects import project_for_model
from sluice.registry import ModelVersion
from sluice.reports.model_card import CardInputs, card_inputs
from sluice.workspace import Workspace


def model_card_inputs(ws: Workspace, mv: ModelVersion) -> CardInputs:
    """Everything the store holds for ``mv``'s card, its project and approvals included."""
    project = project_for_model(ws, mv.name)
    about = (
        {
            "name": project.name,
            "owner": project.owner,
            "objective": project.objective,
            "target": project.to_dict()["target"],
        }
        if project
        else None
    )
    return replace(
        card_inputs(ws, mv), project=about, approvals=tuple(history(ws, mv.name, mv.version))
    )
