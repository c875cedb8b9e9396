"""The model registry: named models, numbered versions, movable aliases, and loading them back.

URIs: ``models:/NAME/3``, ``models:/NAME@champion``, ``models:/NAME`` (the latest).
"""

from sluice.registry.aliases import set_alias
from sluice.registry.environment import capture_environment, git_state
from sluice.registry.loading import LoadedModel, load_model
from sluice.registry.read import champion, list_models, list_versions, resolve, version_by_id
from sluice.registry.records import Alias, ModelVersion, RegisteredModel
from sluice.registry.register import register_version, set_card
from sluice.registry.uri import ModelRef, parse_ref, parse_uri

__all__ = [
    "Alias",
    "LoadedModel",
    "ModelRef",
    "ModelVersion",
    "RegisteredModel",
    "capture_environment",
    "champion",
    "git_state",
    "list_models",
    "list_versions",
    "load_model",
    "parse_ref",
    "parse_uri",
    "register_version",
    "resolve",
    "set_alias",
    "set_card",
    "version_by_id",
]
