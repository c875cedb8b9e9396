"""What the registry hands out: registered models and their versions, as frozen values."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sluice.registry.uri import SCHEME


class Alias(enum.StrEnum):
    """Aliases sluice sets or workflows know; any other valid name is allowed too."""

    CHAMPION = "champion"
    CHALLENGER = "challenger"
    PRODUCTION = "production"
    STAGING = "staging"


@dataclass(frozen=True)
class ModelVersion:
    """One numbered version of a model, with everything needed to trust and rebuild it."""

    id: int
    name: str
    version: int
    artifact_hash: str
    flavor: str
    signature: Mapping[str, Any]
    params: Mapping[str, Any]
    metrics: Mapping[str, Any]
    environment: Mapping[str, Any]
    created_at: float
    dataset_version_id: int | None = None
    pipeline_run_id: str | None = None
    run_id: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    seed: int | None = None
    duration: float | None = None
    card_hash: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return f"{SCHEME}{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        data["uri"] = self.uri
        return data


@dataclass(frozen=True)
class RegisteredModel:
    """A named model: how many versions it has and where its aliases point."""

    id: int
    name: str
    description: str
    created_at: float
    latest_version: int | None
    n_versions: int
    aliases: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"aliases": dict(self.aliases)}
