"""The model card with what governance knows: the approval history of the version."""

from __future__ import annotations

from dataclasses import replace

from sluice.governance.approvals import history
from sluice.registry import ModelVersion
from sluice.reports.model_card import CardInputs, card_inputs
from sluice.workspace import Workspace


def model_card_inputs(ws: Workspace, mv: ModelVersion) -> CardInputs:
    """Everything the store holds for ``mv``'s card, approvals and reviews included."""
    return replace(card_inputs(ws, mv), approvals=tuple(history(ws, mv.name, mv.version)))
