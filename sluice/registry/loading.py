"""Loading a registered model back: resolve, read verified bytes, rebuild safely, check inputs.

The stored object is the whole scikit-learn Pipeline (preprocessing and estimator),
so ``predict`` on raw columns gives the same answer as during evaluation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sluice.errors import ModelError
from sluice.registry.read import resolve
from sluice.registry.records import ModelVersion
from sluice.registry.uri import ModelRef
from sluice.workspace import Workspace

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from sluice.models.signature import Signature

LOADABLE_FLAVORS = ("sklearn",)


class LoadedModel:
    """A model version ready to predict; inputs are checked against its signature first."""

    def __init__(self, model_version: ModelVersion, model: Any, signature: Signature) -> None:
        self.model_version = model_version
        self.model = model
        self.signature = signature

    @property
    def name(self) -> str:
        return self.model_version.name

    @property
    def version(self) -> int:
        return self.model_version.version

    @property
    def uri(self) -> str:
        return self.model_version.uri

    @property
    def metadata(self) -> dict[str, Any]:
        """Everything the registry stored about this version."""
        return self.model_version.to_dict()

    def __repr__(self) -> str:
        return f"LoadedModel({self.uri!r}, {type(self.model).__name__})"

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """Predictions for raw rows: signature check, then the whole pipeline."""
        return self.model.predict(self._checked(df))  # type: ignore[no-any-return]

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """Class probabilities, columns in the order of ``model.classes_``; classifiers only."""
        if not hasattr(self.model, "predict_proba"):
            raise ModelError(
                f"Expected a classifier for predict_proba; {self.uri} is a "
                f"{type(self.model).__name__} without probabilities. Use predict instead."
            )
        return self.model.predict_proba(self._checked(df))  # type: ignore[no-any-return]

    def _checked(self, df: pd.DataFrame) -> pd.DataFrame:
        """The rows after the signature check, columns in training order."""
        self.signature.check(df)
        names = self.signature.names
        return df if list(df.columns) == names else df[names]


def load_model(
    uri: str | ModelRef, *, workspace: Workspace | None = None, trusted: bool = False
) -> LoadedModel:
    """Load ``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` or ``models:/NAME`` (the latest).

    The bytes are hash-verified on read (ArtifactCorrupted otherwise) and rebuilt with
    skops, which refuses types outside the allow-list unless ``trusted=True``.
    """
    if workspace is None:
        from sluice.workspace import current

        workspace = current()
    mv = resolve(workspace, uri)
    _check_flavor(mv)
    return rebuild(mv, workspace.get(mv.artifact_hash), trusted=trusted)


def rebuild(mv: ModelVersion, data: bytes, *, trusted: bool = False) -> LoadedModel:
    """The model of ``mv`` from its stored bytes, checked against the version's hash first
    (for bytes that came from elsewhere, such as a team server)."""
    from sluice.artifacts.base import content_hash
    from sluice.errors import ArtifactCorrupted
    from sluice.models.persistence import loads
    from sluice.models.signature import Signature

    _check_flavor(mv)
    actual = content_hash(data)
    if actual != mv.artifact_hash:
        raise ArtifactCorrupted(
            f"The bytes received for {mv.uri} hash to {actual}, not to its artifact "
            f"{mv.artifact_hash}; they were not loaded. Fetch them again."
        )
    model = loads(data, trusted=trusted)
    return LoadedModel(mv, model, Signature.from_dict(mv.signature))


def version_from_dict(data: dict[str, Any]) -> ModelVersion:
    """A version as ``ModelVersion.to_dict`` (or the team server) described it."""
    from dataclasses import fields

    known = {f.name for f in fields(ModelVersion)}
    values = {k: v for k, v in data.items() if k in known}
    values["aliases"] = tuple(values.get("aliases") or ())
    return ModelVersion(**values)


def _check_flavor(mv: ModelVersion) -> None:
    if mv.flavor not in LOADABLE_FLAVORS:
        raise ModelError(
            f"Expected a model of flavor {', '.join(LOADABLE_FLAVORS)}; {mv.uri} has flavor "
            f"{mv.flavor!r}, which this version of sluice cannot load. Upgrade sluice."
        )
