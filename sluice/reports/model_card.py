"""Model cards: what a version is for, what it was trained on, how good it is and where it is weak.

Two steps, kept apart so either can be tested alone:

* :func:`card_inputs` gathers what the store knows about a version (training data,
  gate verdicts, and what the pipeline kept in ``extra``: ``objective``,
  ``evaluation``, ``validation_warnings``);
* :func:`render_model_card` turns a version plus those inputs into Markdown or
  HTML through Jinja2 templates (HTML autoescaped).

``evaluation`` has the shape of ``sluice.models.evaluation.Evaluation.to_dict()``:
``metric``, ``metrics``, ``baseline_metrics``, ``train_metrics``, ``overfitting`` /
``underfitting`` (``flagged``, ``rule``, ``detail``), ``slices`` (``column``,
``value``, ``rows``, ``score``), ``weakest_slices`` (sentences), ``learning_curve``
(``verdict``, ``more_data_helps``). Every key is optional.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sluice.errors import ConfigError, did_you_mean
from sluice.gates import GateResult, gate_results_for
from sluice.registry import ModelVersion, set_card
from sluice.workspace import Workspace

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("md", "html", "json")
MEDIA_TYPES = {"md": "text/markdown", "html": "text/html", "json": "application/json"}
Format = Literal["md", "html", "json"]


@dataclass(frozen=True)
class CardInputs:
    """What a card says beyond the version itself; each part may be absent."""

    objective: str | None = None
    evaluation: Mapping[str, Any] | None = None
    warnings: Sequence[Any] = ()
    training_data: Mapping[str, Any] | None = None
    gate_results: Sequence[GateResult] = ()
    extra_limitations: Sequence[str] = field(default_factory=tuple)
    registered_by: str | None = None
    project: Mapping[str, Any] | None = None  # the project that owns the model: name, owner
    approvals: Sequence[Mapping[str, Any]] = ()  # requests for this version, with reviews
    monitoring: Sequence[Mapping[str, Any]] = ()  # monitors of the model, latest window each


def card_inputs(ws: Workspace, mv: ModelVersion) -> CardInputs:
    """Everything the store holds for ``mv``'s card."""
    extra = mv.extra or {}
    gates = gate_results_for(ws, model_version_id=mv.id)
    if not gates and mv.pipeline_run_id:
        gates = gate_results_for(ws, pipeline_run_id=mv.pipeline_run_id)
    return CardInputs(
        objective=extra.get("objective"),
        evaluation=extra.get("evaluation"),
        warnings=tuple(extra.get("validation_warnings") or ()),
        training_data=training_data(ws, mv.dataset_version_id),
        gate_results=tuple(gates),
        registered_by=_registered_by(ws, mv),
        monitoring=tuple(monitoring_status(ws, mv)),
    )


def _registered_by(ws: Workspace, mv: ModelVersion) -> str | None:
    """Who registered the version, from the audit trail (None for versions before it)."""
    from sluice.store import audit

    with ws.store.read() as conn:
        found = audit.events(conn, target=mv.uri, action="model.version_registered", limit=1)
    return found[0].actor if found else None


def monitoring_status(ws: Workspace, mv: ModelVersion) -> list[dict[str, Any]]:
    """Each monitor of the model: what it follows and its latest window (status, version)."""
    from sluice.monitoring import alerts_of, latest_results, list_monitors

    out = []
    for monitor in list_monitors(ws):
        if monitor.model_name != mv.name:
            continue
        results = latest_results(ws, monitor, limit=500)
        judged = {r.id: r.model_version for r in results}
        alerts = alerts_of(ws, monitor, limit=500)
        last = results[0] if results else None
        out.append(
            {
                "monitor": monitor.name,
                "follows": monitor.model_uri,
                "window": monitor.window,
                "status": last.status.value if last else "not run yet",
                "judged_version": last.model_version if last else None,
                "window_end": _when(last.window_end) if last else None,
                "alerts_on_this_version": sum(
                    1 for a in alerts if judged.get(a.result_id) == mv.version
                ),
            }
        )
    return out


def training_data(ws: Workspace, dataset_version_id: int | None) -> dict[str, Any] | None:
    """Name, version number, hash, size and source of a dataset version (None when absent)."""
    if dataset_version_id is None:
        return None
    import sqlalchemy as sa

    from sluice.store import tables as t

    dv, ds = t.dataset_versions, t.datasets
    query = (
        sa.select(
            ds.c.name, dv.c.version, dv.c.content_hash, dv.c.n_rows, dv.c.n_cols, dv.c.source_uri
        )
        .join(ds, ds.c.id == dv.c.dataset_id)
        .where(dv.c.id == dataset_version_id)
    )
    with ws.store.read() as conn:
        row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def check_format(fmt: str) -> None:
    """Refuse a card format other than md, html or json, naming the choices."""
    if fmt not in FORMATS:
        raise ConfigError(
            f"Expected a card format among {', '.join(FORMATS)}; got {fmt!r}."
            f"{did_you_mean(fmt, FORMATS)} Use --format md, html or json."
        )


def render_model_card(
    mv: ModelVersion, inputs: CardInputs | None = None, *, fmt: str = "md"
) -> str:
    """The card of ``mv`` as Markdown (``fmt="md"``) or a standalone HTML page (``"html"``)."""
    check_format(fmt)
    context = _context(mv, inputs or CardInputs())
    if fmt == "json":
        return json.dumps(_plain(context), indent=2, default=str) + "\n"
    return _environment().get_template(f"model_card.{fmt}.j2").render(**context)


def save_model_card(
    ws: Workspace, mv: ModelVersion, inputs: CardInputs | None = None, *, fmt: Format = "html"
) -> str:
    """Render, store as an artifact, attach to the version; returns the card's address."""
    text = render_model_card(mv, inputs if inputs is not None else card_inputs(ws, mv), fmt=fmt)
    address = ws.put(text.encode(), media_type=MEDIA_TYPES[fmt], materializer="text")
    set_card(ws, mv, address)
    return address


# -- the view model ---------------------------------------------------------------


def _context(mv: ModelVersion, inputs: CardInputs) -> dict[str, Any]:
    evaluation = dict(inputs.evaluation or {})
    metrics = dict(evaluation.get("metrics") or mv.metrics)
    baseline = dict(evaluation.get("baseline_metrics") or {})
    return {
        "mv": mv,
        "created": _when(mv.created_at),
        "objective": inputs.objective,
        "data": inputs.training_data,
        "inputs": _signature_columns(mv.signature),
        "output": _output(mv.signature),
        "metric": evaluation.get("metric"),
        "metric_rows": [
            {
                "name": k,
                "value": _num(v),
                "baseline": _num(baseline.get(k)),
                "delta": _delta(v, baseline.get(k)),
            }
            for k, v in metrics.items()
        ],
        "slices": [dict(s) for s in evaluation.get("slices") or ()],
        "weakest": list(evaluation.get("weakest_slices") or ()),
        "limitations": _limitations(evaluation, inputs),
        "gates": list(inputs.gate_results),
        "lineage": _lineage(mv, inputs.training_data),
        "env": mv.environment,
        "registered_by": inputs.registered_by,
        "project": dict(inputs.project) if inputs.project else None,
        "approvals": [dict(a) for a in inputs.approvals],
        "monitoring": [dict(m) for m in inputs.monitoring],
    }


def _plain(value: Any) -> Any:
    """The card's context as JSON data (dataclasses become dicts)."""
    if isinstance(value, ModelVersion | GateResult):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _limitations(evaluation: Mapping[str, Any], inputs: CardInputs) -> list[str]:
    found = [_warning_text(w) for w in inputs.warnings]
    for key in ("overfitting", "underfitting"):
        flag = evaluation.get(key) or {}
        if flag.get("flagged"):
            found.append(f"{key.capitalize()}: {flag.get('detail') or flag.get('rule')}")
    curve = evaluation.get("learning_curve") or {}
    if curve.get("more_data_helps"):
        found.append(f"More data would likely help: {curve.get('verdict')}")
    found.extend(inputs.extra_limitations)
    return found


def _warning_text(warning: Any) -> str:
    data = warning.to_dict() if hasattr(warning, "to_dict") else warning
    if not isinstance(data, Mapping):
        return str(data)
    where = f"column {data['column']!r}: " if data.get("column") else ""
    text = (
        data.get("message") or f"observed {data.get('observed')}, expected {data.get('expected')}"
    )
    return (
        f"{data.get('kind', 'warning')} ({where}{text})"
        if where
        else f"{data.get('kind', 'warning')}: {text}"
    )


def _lineage(mv: ModelVersion, data: Mapping[str, Any] | None) -> list[str]:
    steps = []
    if data:
        steps.append(f"dataset {data['name']}@{data['version']} ({str(data['content_hash'])[:12]})")
    elif mv.dataset_version_id is not None:
        steps.append(f"dataset version id {mv.dataset_version_id}")
    if mv.pipeline_run_id:
        steps.append(f"pipeline run {mv.pipeline_run_id}")
    if mv.run_id:
        steps.append(f"tracked run {mv.run_id}")
    steps.append(f"{mv.uri} (artifact {mv.artifact_hash[:12]})")
    return steps


def _signature_columns(signature: Mapping[str, Any]) -> list[dict[str, str]]:
    """Input columns of a signature dict, whatever key it keeps them under."""
    for key in ("inputs", "columns", "features"):
        cols = signature.get(key)
        if isinstance(cols, list):
            return [
                {
                    "name": str(c.get("name")),
                    "type": _column_type(c),
                }
                if isinstance(c, Mapping)
                else {"name": str(c), "type": ""}
                for c in cols
            ]
        if isinstance(cols, Mapping):
            return [{"name": str(k), "type": str(v)} for k, v in cols.items()]
    return []


def _output(signature: Mapping[str, Any]) -> str | None:
    """What the model predicts, from the signature's ``output`` (task, classes)."""
    output = signature.get("output")
    if not isinstance(output, Mapping) or not output.get("task"):
        return None
    classes = output.get("classes")
    shown = f" of {len(classes)} classes ({', '.join(map(str, classes[:10]))})" if classes else ""
    return f"{output['task']}{shown}"


def _column_type(column: Mapping[str, Any]) -> str:
    kind, dtype = column.get("kind"), column.get("dtype")
    return f"{kind} ({dtype})" if kind and dtype else str(kind or dtype or column.get("type") or "")


def _num(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, int | float) else str(value)


def _delta(value: Any, baseline: Any) -> str:
    if not isinstance(value, int | float) or not isinstance(baseline, int | float):
        return ""
    return f"{value - baseline:+.4g}"


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["cell"] = _md_cell
    env.filters["num"] = _num
    return env


def _md_cell(value: Any) -> str:
    """A value safe inside a Markdown table cell: pipes escaped, newlines flattened."""
    return str("" if value is None else value).replace("|", "\\|").replace("\n", " ")
