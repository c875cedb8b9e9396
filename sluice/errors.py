"""One exception tree for everything a user can cause.

::

    SluiceError                      exit code 2 unless said otherwise
    ├── ConfigError                  sluice.yaml, settings, CLI arguments
    ├── StoreError                   the metadata store
    │   ├── AlreadyExists
    │   └── NotFound
    ├── ArtifactError                the artifact store
    │   ├── ArtifactNotFound
    │   ├── ArtifactCorrupted        bytes do not match their hash
    │   ├── UnsafeArtifact           would need pickle or unknown types; pass trusted=True
    │   ├── InvalidArtifactName      '..', absolute paths, NUL
    │   └── ArtifactStoreUnavailable a missing package, bucket, credential or endpoint
    ├── DataError                    reading and understanding a dataset
    │   ├── DataFileNotFound
    │   ├── EmptyData
    │   ├── DataFormatError          encoding, unknown format, duplicate column names
    │   └── ColumnNotFound
    ├── ValidationFailed  (exit 1)   anomalies of severity error in a dataset
    ├── PipelineError                definitions, DAG, caching, resume
    │   └── StepFailed    (exit 1)   a step raised; the run is kept and can be resumed
    ├── TrackingError
    │   └── RunNotFound
    ├── ModelError                   training, selection, evaluation, persistence
    │   ├── SignatureMismatch        input columns or types do not match the model
    │   │   └── InvalidRequest       a prediction request that does not fit; .problems lists each
    │   └── UnknownMetric            a metric name not defined for the task
    ├── RegistryError
    │   ├── ModelNotFound
    │   ├── VersionNotFound
    │   ├── AliasNotFound
    │   ├── InvalidModelURI
    │   ├── InvalidModelName         not usable in a models:/ URI
    │   └── InvalidAlias             not of the form [a-z][a-z0-9_-]*
    ├── GateError                    a gate definition is wrong
    │   └── GateFailed    (exit 1)   a gate ran and did not pass
    ├── PredictionLogError           the prediction log cannot be written or read
    ├── ServingError                 starting or reloading the model server, batch scoring
    ├── MonitorError                 a monitor definition or run
    │   └── MonitorNotFound
    └── ClusterError                 Dask not installed, scheduler unreachable, workers died

Every message says what was expected, what was found, and what to do. Third-party
errors are translated where they enter and kept as ``__cause__``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SluiceError(Exception):
    """Root of every error sluice raises on purpose."""

    exit_code = 2


class ConfigError(SluiceError):
    """A setting, a CLI argument or a key in sluice.yaml is wrong."""


class StoreError(SluiceError):
    """The metadata store could not do what was asked."""


class AlreadyExists(StoreError):
    """A record with the same unique name already exists."""


class NotFound(StoreError):
    """A record that was asked for does not exist."""


class ArtifactError(SluiceError):
    """The artifact store could not do what was asked."""


class ArtifactNotFound(ArtifactError):
    """No blob with that hash is in the artifact store."""


class ArtifactCorrupted(ArtifactError):
    """The bytes read back do not hash to their address."""


class UnsafeArtifact(ArtifactError):
    """Loading the artifact could run code; refused unless the caller trusts it."""


class InvalidArtifactName(ArtifactError):
    """An artifact or file name that could escape its folder."""


class DataError(SluiceError):
    """A dataset could not be read or does not fit the task."""


class DataFileNotFound(DataError):
    """The data file does not exist."""


class EmptyData(DataError):
    """The data file has no rows (or no bytes)."""


class DataFormatError(DataError):
    """The file is not in a format sluice can read as a table."""


class ColumnNotFound(DataError):
    """A column named in the configuration is not in the data."""


class ValidationFailed(SluiceError):
    """Validation found anomalies of severity error; the report says which."""

    exit_code = 1

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class PipelineError(SluiceError):
    """A pipeline or step definition is wrong, or a run cannot go on."""


class StepFailed(PipelineError):
    """A step raised. The run is kept and can be resumed from this step."""

    exit_code = 1

    def __init__(self, message: str, run_id: str | None = None, step: str | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.step = step


class TrackingError(SluiceError):
    """A run, parameter or metric could not be recorded."""


class ModelError(SluiceError):
    """A model could not be trained, selected, evaluated, saved or loaded."""


class SignatureMismatch(ModelError):
    """Input columns or types do not match the model's signature."""


class InvalidRequest(SignatureMismatch):
    """A prediction request that does not fit the model; ``problems`` names each record and
    column at fault (what the HTTP app returns as a 422)."""

    def __init__(self, message: str, problems: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class RegistryError(SluiceError):
    """The model registry could not do what was asked."""


class ModelNotFound(RegistryError):
    """No registered model has that name."""


class VersionNotFound(RegistryError):
    """The model has no such version."""


class AliasNotFound(RegistryError):
    """The model has no such alias."""


class InvalidModelURI(RegistryError):
    """A model URI is not of the form models:/NAME/VERSION or models:/NAME@ALIAS."""


class GateError(SluiceError):
    """A gate definition is wrong (for instance it names an unknown metric)."""


class GateFailed(SluiceError):
    """A gate ran and did not pass. Nothing was registered."""

    exit_code = 1

    def __init__(self, message: str, results: object | None = None) -> None:
        super().__init__(message)
        self.results = results


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ' Did you mean 'x'?' suffix for an unknown name, or '' when nothing is close."""
    options = list(choices)
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.5)
    if not close:
        lowered = {c.lower(): c for c in options}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), lowered, n=1)]
    return f" Did you mean '{close[0]}'?" if close else ""


class InvalidModelName(RegistryError):
    """A model name that cannot appear in a models:/ URI."""


class InvalidAlias(RegistryError):
    """An alias name outside [a-z][a-z0-9_-]*."""


class UnknownMetric(ModelError):
    """A metric name that is not defined for the task (see sluice.models.metrics)."""


class RunNotFound(TrackingError):
    """No tracked run has that id."""


class PredictionLogError(SluiceError):
    """The prediction log cannot be written or read."""


class ServingError(SluiceError):
    """The model server cannot start or reload, or a batch cannot be scored."""


class MonitorError(SluiceError):
    """A monitor's definition is wrong or it cannot run."""


class MonitorNotFound(MonitorError):
    """No monitor has that name."""


class GovernanceError(SluiceError):
    """Users, roles, tokens: a request that names something wrong."""


class UserNotFound(GovernanceError):
    """No user has that name."""


class TokenNotFound(GovernanceError):
    """No token has that id."""


class Unauthorized(GovernanceError):
    """No token, or a token that is unknown, revoked, expired or of a disabled user."""


class Forbidden(GovernanceError):
    """The user's role may not do this."""


class ClusterError(SluiceError):
    """Work could not fan out over a Dask cluster: dask.distributed is not installed
    (``pip install 'sluice[dask]'``), the scheduler cannot be reached, or workers died."""


class ArtifactStoreUnavailable(ArtifactError):
    """The artifact store cannot be opened or reached: a missing package, bucket, credential
    or endpoint."""
