"""The job's bridge to the domain modules: selection, evaluation, champion, gates, registry.

Steps stay a few lines each; what they do with sluice.models, sluice.tracking,
sluice.gates and sluice.registry lives here, one function per step, so each
can be read (and tested) without the pipeline around it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sluice.templates.tabular.plain import plain

if TYPE_CHECKING:
    import pandas as pd

    from sluice.pipelines.context import StepContext
    from sluice.workspace import Workspace


def usable_schema(schema: dict[str, Any], frame: pd.DataFrame) -> Any:
    """The inferred schema with columns that cleaning removed marked ignored."""
    from sluice.data import Schema

    present = set(frame.columns)
    columns = [c if c["name"] in present else {**c, "role": "ignored"} for c in schema["columns"]]
    return Schema.from_dict({**schema, "columns": columns})


def select(
    ws: Workspace, train: pd.DataFrame, schema: dict[str, Any], s: dict[str, Any], ctx: StepContext
) -> tuple[Any, Any, dict[str, Any]]:
    """Cross-validate the candidates; each becomes a tracked run with its scores and costs."""
    from sluice.models.candidates import CandidateSettings, SearchSettings, candidates_for
    from sluice.models.selection import SelectionPolicy
    from sluice.models.selection import select as run_selection

    target = s["target"]
    runs: dict[str, str] = {}

    def track(row: Any) -> None:
        runs[row.name] = _track_candidate(ws, row, s, ctx)

    budget = s.get("search_budget")
    result = run_selection(
        train.drop(columns=[target]),
        train[target],
        task=s["task"],
        candidates=candidates_for(
            s["task"],
            include=s.get("candidates"),
            settings=CandidateSettings(random_state=s["seed"]),
        ),
        schema=usable_schema(schema, train),
        metric=s["metric"],
        cv=s["cv_folds"],
        policy=SelectionPolicy(tolerance=s["tolerance"]),
        search=SearchSettings(enabled=budget is not None, n_iter=budget or 8),
        on_candidate=track,
        random_state=s["seed"],
    )
    summary = plain(result.to_dict())
    for row in summary["leaderboard"]:
        row["run_id"] = runs.get(row["name"])
    return result.model, result.baseline_model, summary


def _track_candidate(ws: Workspace, row: Any, s: dict[str, Any], ctx: StepContext) -> str:
    """One candidate as a tracked run: params, CV score and spread, costs, interpretability."""
    from sluice.tracking import start_run

    with start_run(
        name=row.name,
        experiment=s["experiment"],
        workspace=ws,
        pipeline_run_id=ctx.pipeline_run_id,
        step_run_id=ctx.step_run_id,
    ) as run:
        run.log_params({"candidate": row.name, "cv_folds": s["cv_folds"], **row.params})
        run.log_metrics(
            {
                f"cv_{row.metric}": row.cv_mean,
                f"cv_{row.metric}_std": row.cv_std,
                "fit_seconds": row.fit_seconds,
                "latency_ms_per_row": row.predict_seconds_per_row * 1000,
                "size_bytes": row.size_bytes,
            }
        )
        for fold, score in enumerate(row.cv_scores):
            run.log_metric(f"cv_{row.metric}_fold", score, step=fold)
        run.set_tag("interpretability", row.interpretability)
        run.set_tag("baseline", str(row.baseline).lower())
        return str(run.id)


def evaluate(
    model: Any,
    baseline: Any,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    selection: dict[str, Any],
    schema: dict[str, Any],
    s: dict[str, Any],
) -> dict[str, Any]:
    """Holdout metrics beside the baseline's, fit flags, slices, importance, learning curve."""
    from sluice.models.evaluation import EvaluationSettings
    from sluice.models.evaluation import evaluate as run_evaluation

    target = s["target"]
    report = run_evaluation(
        model,
        baseline,
        train.drop(columns=[target]),
        train[target],
        holdout.drop(columns=[target]),
        holdout[target],
        task=s["task"],
        schema=usable_schema(schema, train),
        metric=s["metric"],
        settings=EvaluationSettings(
            slice_max_levels=s["max_slice_categories"] if s["slices"] else 0,
            learning_curve=s["learning_curve"],
            random_state=s["seed"],
        ),
    )
    out = plain(report.to_dict())
    out["plots"] = dict(report.plots)
    winner = next(r for r in selection["leaderboard"] if r["name"] == selection["winner"])
    out["latency_ms_per_row"] = _latency_ms(model, holdout.drop(columns=[target]))
    out["size_bytes"] = winner["size_bytes"]
    return out


def _latency_ms(model: Any, rows: pd.DataFrame) -> float:
    """Median milliseconds per row over a few batch predictions on holdout rows."""
    batch = rows.head(1000)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        model.predict(batch)
        timings.append((time.perf_counter() - start) / max(len(batch), 1))
    return sorted(timings)[1] * 1000


def champion_on_holdout(
    ws: Workspace, model_name: str, holdout: pd.DataFrame, s: dict[str, Any]
) -> dict[str, Any] | None:
    """The champion's metrics on the same holdout rows, or None when there is no champion."""
    from sluice.errors import AliasNotFound, ModelNotFound
    from sluice.models.metrics import compute_all, outcome
    from sluice.models.persistence import loads
    from sluice.registry import resolve

    try:
        version = resolve(ws, f"models:/{model_name}@champion")
    except (ModelNotFound, AliasNotFound):
        return None
    champion = loads(ws.get(version.artifact_hash), trusted=False)
    target = s["target"]
    said = outcome(champion, holdout.drop(columns=[target]), holdout[target], s["task"])
    return {
        "version": version.version,
        "uri": version.uri,
        "metrics": plain(compute_all(said, s["task"])),
    }


def run_gates(
    ws: Workspace,
    pipeline_run_id: str,
    gates: list[dict[str, Any]],
    validation: dict[str, Any],
    selection: dict[str, Any],
    evaluation: dict[str, Any],
    champion: dict[str, Any] | None,
) -> dict[str, Any]:
    """Evaluate and store every gate's verdict; the job registers only when all passed."""
    from sluice.gates import GateContext, evaluate_gates, parse_gates, save_gate_results

    errors = sum(1 for a in validation["anomalies"] if a.get("severity") == "error")
    ctx = GateContext(
        task=evaluation["task"],
        metrics=evaluation["metrics"],
        baseline_metrics=evaluation["baseline_metrics"],
        champion_metrics=champion["metrics"] if champion else None,
        champion_version=champion["version"] if champion else None,
        validation_errors=errors,
        model_size_bytes=evaluation["size_bytes"],
        latency_ms_per_row=evaluation["latency_ms_per_row"],
    )
    results = evaluate_gates(parse_gates(gates), ctx)
    save_gate_results(ws, results, pipeline_run_id=pipeline_run_id)
    return {"passed": all(r.passed for r in results), "results": [r.to_dict() for r in results]}


def register(
    ws: Workspace,
    pipeline_run_id: str,
    model: Any,
    dataset: dict[str, Any],
    validation: dict[str, Any],
    selection: dict[str, Any],
    evaluation: dict[str, Any],
    train: pd.DataFrame,
    s: dict[str, Any],
) -> dict[str, Any]:
    """The next version of the model, with its signature, lineage and model card."""
    from sluice.gates import link_gate_results
    from sluice.models.persistence import dumps
    from sluice.models.signature import infer_signature
    from sluice.registry import register_version
    from sluice.reports.model_card import save_model_card

    target = s["target"]
    winner = next(r for r in selection["leaderboard"] if r["name"] == selection["winner"])
    version = register_version(
        ws,
        s["model_name"],
        model_bytes=dumps(model),
        signature=infer_signature(train.drop(columns=[target]), model, task=s["task"]),
        dataset_version_id=dataset["id"],
        pipeline_run_id=pipeline_run_id,
        run_id=winner.get("run_id"),
        params={"candidate": winner["name"], **winner.get("params", {})},
        metrics=evaluation["metrics"],
        seed=s["seed"],
        duration=winner["fit_seconds"],
        extra={
            "objective": s["project"].get("objective") or None,
            "project": s["project"]["name"],
            "task": s["task"],
            "selection": selection["reasons"],
            "evaluation": {k: v for k, v in evaluation.items() if k != "plots"},
            "validation_warnings": validation["anomalies"],
        },
    )
    link_gate_results(ws, pipeline_run_id=pipeline_run_id, model_version_id=version.id)
    save_model_card(ws, version)
    return {
        "name": version.name,
        "version": version.version,
        "uri": version.uri,
        "id": version.id,
        "aliases": _aliases(ws, s["model_name"], version.version),
    }


def _aliases(ws: Workspace, name: str, number: int) -> list[str]:
    from sluice.registry import resolve

    return sorted(resolve(ws, f"models:/{name}/{number}").aliases)
