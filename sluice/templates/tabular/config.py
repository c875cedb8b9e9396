"""The ``sluice.yaml`` model: what the main job is told, checked before anything runs.

Every section forbids unknown keys, so a typo fails at load time with the key's
place and the nearest valid key, instead of being silently ignored halfway
through a long run. Relative data paths resolve against the yaml's folder so a
project can be moved or run from anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sluice.errors import ConfigError, did_you_mean
from sluice.gates.spec import GateSpec, parse_gates

Task = Literal["classification", "regression"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectConfig(_Section):
    """The business problem: its name and what the model is for (goes into the model card)."""

    name: str = Field(min_length=1)
    objective: str = ""


class DataConfig(_Section):
    """Where the data is and which column to predict."""

    path: Path
    name: str | None = None
    target: str = Field(min_length=1)
    task: Task | None = None
    time_column: str | None = None
    drop: list[str] = Field(default_factory=list)
    sample: int | None = Field(default=None, ge=10)

    @property
    def dataset_name(self) -> str:
        """The dataset's name in the store: given, or the file's stem."""
        return self.name or self.path.name.split(".")[0]


class SplitConfig(_Section):
    """The holdout: the last share of rows by time when a time column is set, else random."""

    holdout: float = Field(default=0.2, gt=0.0, lt=0.9)


class SelectionConfig(_Section):
    """How candidates are compared: metric, folds, and how much worse a simpler model may be."""

    metric: str | None = None
    cv_folds: int = Field(default=5, ge=2, le=50)
    tolerance: float = Field(default=0.01, ge=0.0, lt=1.0)
    candidates: list[str] | None = None
    search_budget: int | None = Field(default=None, ge=1)


class EvaluationConfig(_Section):
    """What evaluation computes beyond holdout metrics and permutation importance.

    Slices and the learning curve can be turned off for speed (the learning curve
    refits the chosen model several times).
    """

    slices: bool = True
    max_slice_categories: int = Field(default=12, ge=2)
    learning_curve: bool = True


class ModelConfig(_Section):
    """The registered model the winner becomes a version of."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class DaskConfig(_Section):
    """A Dask cluster: a scheduler's address, or worker processes started on this machine.

    Neither: the address comes from SLUICE_DASK_ADDRESS when the run starts.
    """

    address: str | None = Field(default=None, pattern=r"^[a-z]+://\S+$")
    local_workers: int | None = Field(default=None, ge=1, le=256)

    @model_validator(mode="after")
    def _one_way(self) -> DaskConfig:
        if self.address is not None and self.local_workers is not None:
            raise ValueError(
                "expected either address (a running cluster) or local_workers (one started "
                "here), not both"
            )
        return self


class ExecutorConfig(_Section):
    """``executor: {dask: {...}}``."""

    dask: DaskConfig


class JobConfig(_Section):
    """A whole ``sluice.yaml``."""

    project: ProjectConfig
    data: DataConfig
    split: SplitConfig = SplitConfig()
    selection: SelectionConfig = SelectionConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    gates: list[GateSpec] = Field(default_factory=list)
    model: ModelConfig
    executor: ExecutorConfig | None = None  # 'local' (None): steps run in this process
    seed: int = 0
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("executor", mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        """``executor: local`` or ``executor: dask`` (its address from SLUICE_DASK_ADDRESS)."""
        if value == "local":
            return None
        if value == "dask":
            return {"dask": {}}
        if isinstance(value, str):
            raise ValueError("expected 'local', 'dask' or {dask: {address: tcp://HOST:PORT}}")
        return value

    @property
    def executor_spec(self) -> str | dict[str, Any]:
        """What :func:`sluice.pipelines.open_executor` takes."""
        if self.executor is None:
            return "local"
        return self.executor.model_dump(exclude_none=True)


def load_config(path: str | Path) -> JobConfig:
    """Read and check a ``sluice.yaml``; every problem is a ConfigError naming its place."""
    import yaml

    file = Path(path)
    if not file.is_file():
        raise ConfigError(
            f"Expected a configuration file at {str(file)!r}; it does not exist. "
            "Create one with `sluice init --data PATH --target COLUMN`."
        )
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{file}: expected UTF-8 text; got {exc}. Save the file as UTF-8."
        ) from exc
    except yaml.YAMLError as exc:
        detail = str(exc).replace('"<unicode string>"', f'"{file.name}"')
        raise ConfigError(f"{file}: expected valid YAML; got {detail}. Fix the syntax.") from exc
    return parse_config(raw, source=file)


def as_job(config: JobConfig | Mapping[str, Any] | str | os.PathLike[str]) -> JobConfig:
    """A checked job from a JobConfig, its mapping, or the path of a ``sluice.yaml``."""
    if isinstance(config, JobConfig):
        return config
    if isinstance(config, Mapping):
        return parse_config(dict(config))
    return load_config(Path(config))


def parse_config(raw: Any, *, source: Path | None = None) -> JobConfig:
    """Check a loaded mapping; relative data paths resolve against the file's folder."""
    where = str(source) if source else "sluice.yaml"
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{where}: expected a mapping with sections {', '.join(_keys(JobConfig))}; "
            f"got {type(raw).__name__}. Start from `sluice init`."
        )
    gates = raw.get("gates") or []
    if not isinstance(gates, list):
        raise ConfigError(
            f"{where}: 'gates' must be a list of gates (- kind: metric ...); got {gates!r}. "
            "See the comments that `sluice init` writes."
        )
    try:
        config = JobConfig.model_validate({**raw, "gates": parse_gates(gates)})
    except ValidationError as exc:
        raise ConfigError(_explain(exc, where)) from exc
    if source is not None and not config.data.path.is_absolute():
        data = config.data.model_copy(update={"path": (source.parent / config.data.path).resolve()})
        config = config.model_copy(update={"data": data, "source": source.resolve()})
    return config


def _explain(exc: ValidationError, where: str) -> str:
    """Turn pydantic's errors into 'expected / got / what to do', one line each."""
    lines = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not isinstance(p, str) or not p.startswith("function-")]
        place = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            valid = _keys_at(JobConfig, loc[:-1])
            hint = did_you_mean(str(loc[-1]), valid) if valid else ""
            listing = f" Valid keys here: {', '.join(valid)}." if valid else ""
            lines.append(f"unknown key '{place}'.{hint}{listing}")
        elif err["type"] == "value_error":
            lines.append(f"'{place}': {err['ctx']['error']}; got {err.get('input')!r}.")
        elif err["type"] == "missing":
            lines.append(f"'{place}' is required but missing. Add it to the file.")
        else:
            got = err.get("input")
            expected = err["msg"].replace("Input should be", "a value", 1)
            lines.append(f"'{place}': expected {expected[0].lower()}{expected[1:]}; got {got!r}.")
    return f"{where}: " + " ".join(lines)


def _keys(model: type[BaseModel]) -> list[str]:
    return [name for name, f in model.model_fields.items() if not f.exclude]


def _keys_at(model: type[BaseModel], loc: list[Any]) -> list[str]:
    """The valid keys of the section at ``loc`` (empty when it is not a plain section)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        field = fields.get(part)
        if field is None:
            return []
        current = _section_type(field.annotation)
        if current is None:
            return []
    return _keys(current) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _section_type(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None
