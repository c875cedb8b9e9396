"""``sluice init``: a commented ``sluice.yaml`` inferred from the data.

The file is rendered from a template with a comment on every key (ruamel is not
a dependency, and a template keeps the comments where people expect them), then
parsed back with the same loader ``sluice run`` uses, so ``init`` can never
write a file that ``run`` refuses. Id-like columns and leakage suspects are put
under ``data.drop`` with a comment saying why.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sluice.errors import ColumnNotFound, ConfigError, did_you_mean
from sluice.templates.tabular.checks import infer_task

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Scaffold:
    """What ``init`` wrote and what it inferred."""

    path: Path
    task: str
    metric: str
    time_column: str | None
    dropped: dict[str, str]


def scaffold(
    data: str | Path,
    target: str,
    *,
    out: str | Path = "sluice.yaml",
    task: str | None = None,
    time_column: str | None = None,
    name: str | None = None,
    force: bool = False,
) -> Scaffold:
    """Write a ``sluice.yaml`` for ``data``; refuses to overwrite unless ``force``."""
    from sluice.data import infer_schema, read_table

    data, out = Path(data), Path(out)
    if out.exists() and not force:
        raise ConfigError(
            f"Expected no file at {str(out)!r}; one exists. Pass --force to overwrite it, "
            "or choose another path with --out."
        )
    if task is not None and task not in TASKS:
        raise ConfigError(
            f"--task must be one of {', '.join(TASKS)}; got {task!r}.{did_you_mean(task, TASKS)}"
        )
    frame = read_table(data)
    _require(frame, target, "--target")
    if time_column:
        _require(frame, time_column, "--time-column")
    schema = infer_schema(frame, target=target, time_column=time_column, task=task)
    task = task or schema.task or infer_task(frame[target])
    values = _values(frame, schema, data, out, target, task, name)
    text = _render(values)
    _check_loads(text, out)
    _write_atomic(out, text)
    return Scaffold(out, task, values["metric"], values["time_column"], dict(values["drops"]))


def _require(frame: Any, column: str, option: str) -> None:
    names = [str(c) for c in frame.columns]
    if column not in names:
        raise ColumnNotFound(
            f"{option} {column!r} must name a column of the data; it has {len(names)}: "
            f"{', '.join(names[:20])}{' …' if len(names) > 20 else ''}."
            f"{did_you_mean(column, names)} Fix {option}."
        )


def _values(
    frame: Any, schema: Any, data: Path, out: Path, target: str, task: str, name: str | None
) -> dict[str, Any]:
    from sluice.models.metrics import DEFAULT_METRIC, metric_names
    from sluice.models.types import Task

    project = name or _slug(data.name.split(".")[0])
    time_column = schema.time_column
    return {
        "project_name": project,
        "objective": f"Predict {target} from the other columns of {data.name}.",
        "data_label": data.name,
        "data_path": _relative(data, out),
        "dataset_name": _slug(data.name.split(".")[0]),
        "target": target,
        "task": task,
        "task_note": "set by --task" if schema.task is None else "inferred from the target",
        "time_column": time_column,
        "split_note": "the latest rows by time"
        if time_column
        else "a random, stratified share"
        if task == "classification"
        else "a random share",
        "drops": _drops(frame, schema, target),
        "metric": DEFAULT_METRIC[Task(task)],
        "metric_names": metric_names(task),
        "model_name": _slug(project),
    }


def _drops(frame: Any, schema: Any, target: str) -> list[tuple[str, str]]:
    """Id-like columns and leakage suspects, each with the reason it is dropped."""
    from sluice.data import validate

    drops = [
        (c.name, f"id-like: {c.n_unique} distinct values in {len(frame)} rows")
        for c in schema.columns
        if str(getattr(c.role, "value", c.role)) == "id" and c.name != target
    ]
    report = validate(frame, schema)
    for a in report.anomalies:
        if str(getattr(a.kind, "value", a.kind)) == "leakage_suspect" and a.column:
            drops.append((a.column, f"leakage suspect: {_leak_reason(a)}"))
    return list(dict.fromkeys(drops))


def _render(values: dict[str, Any]) -> str:
    import jinja2

    from sluice.templates.tabular.yaml_template import TEMPLATE

    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["q"] = lambda v: json.dumps(v, ensure_ascii=False)
    return env.from_string(TEMPLATE).render(**values)


def _check_loads(text: str, out: Path) -> None:
    """Parse what is about to be written with ``sluice run``'s own loader."""
    import yaml

    from sluice.templates.tabular.config import parse_config

    parse_config(yaml.safe_load(text), source=out.absolute())


def _write_atomic(path: Path, text: str) -> None:
    from sluice.artifacts.local import atomic_write

    atomic_write(path, text.encode("utf-8"))


def _relative(data: Path, out: Path) -> str:
    try:
        return os.path.relpath(data.absolute(), out.absolute().parent)
    except ValueError:  # another drive on Windows
        return str(data.absolute())


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    return slug or "model"


def _leak_reason(anomaly: Any) -> str:
    """The finding, without the advice: 'Column 'registered' alone explains 95% of target 'cnt''."""
    finding = " ".join(str(anomaly.message).split(";")[0].split())
    return f"{finding}; probably known only after the outcome"
