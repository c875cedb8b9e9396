"""The main job as a pipeline, and ``run_job``: check, run, summarize, report.

``run_job`` checks the configuration against the data before anything is
written (bad input exits 2 and leaves the store untouched), runs the cached
pipeline, then writes the HTML run report outside the DAG, because the report
describes the run itself: which steps were cache hits and how long each took.
Gate verdicts are data, not exceptions: the run completes, the report is kept,
and the caller turns a failed gate into exit code 1.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sluice.errors import StepFailed, ValidationFailed
from sluice.pipelines import open_executor, pipeline
from sluice.templates.tabular import steps
from sluice.templates.tabular.checks import Plan, plan_job
from sluice.templates.tabular.config import JobConfig
from sluice.workspace import Workspace


@pipeline
def tabular(
    path: str,
    dataset_name: str,
    content_hash: str,
    target: str,
    time_column: str | None,
    drop: list[str],
    sample: int | None,
    holdout: float,
    task: str,
    gates: list[dict[str, Any]],
    model_name: str,
    seed: int,
    selection: dict[str, Any],
    evaluation: dict[str, Any],
    registration: dict[str, Any],
    champion_ref: str | None = None,
    reference: str | None = None,
) -> dict[str, Any]:
    """Version, validate, clean, split, select, evaluate, compare, gate, register."""
    dataset = steps.version_data(path, dataset_name, content_hash)
    frame = steps.load_data(dataset)
    validation = steps.validate_data(frame, target, time_column, task, drop, reference)
    cleaned, cleaning = steps.clean(frame, validation, target, drop, sample, seed)
    train, holdout_rows, _ = steps.split(cleaned, target, holdout, time_column, task, seed)
    model, baseline, chosen = steps.select_model(train, validation, selection)
    scores = steps.evaluate(model, baseline, train, holdout_rows, chosen, validation, evaluation)
    champion = steps.compare_champion(holdout_rows, model_name, evaluation, champion_ref)
    verdicts = steps.check_gates(gates, validation, chosen, scores, champion)
    registered = steps.register(
        model, verdicts, dataset, validation, chosen, scores, train, registration
    )
    return {
        "registered": registered,
        "verdicts": verdicts,
        "cleaning": cleaning,
    }


def pipeline_params(config: JobConfig, plan: Plan) -> dict[str, Any]:
    """The run's parameters: plain values, grouped per step so each step's cache key is exact.

    ``champion_ref`` (see :func:`champion_ref`) is filled in when the run starts, so that
    moving the champion alias invalidates the comparison with it.
    """
    d, sel, ev = config.data, config.selection, config.evaluation
    common = {"task": plan.task, "metric": plan.metric, "target": d.target, "seed": config.seed}
    return {
        "path": str(d.path),
        "dataset_name": d.dataset_name,
        "content_hash": plan.content_hash,
        "target": d.target,
        "time_column": d.time_column,
        "drop": list(d.drop),
        "sample": d.sample,
        "holdout": config.split.holdout,
        "task": plan.task,
        "gates": [g.model_dump(mode="json", exclude_none=True) for g in config.gates],
        "model_name": config.model.name,
        "seed": config.seed,
        "selection": {
            **common,
            "cv_folds": sel.cv_folds,
            "tolerance": sel.tolerance,
            "candidates": sel.candidates,
            "search_budget": sel.search_budget,
            "experiment": config.project.name,
        },
        "evaluation": {**common, **ev.model_dump(mode="json")},
        "registration": {
            **common,
            "model_name": config.model.name,
            "project": config.project.model_dump(mode="json"),
        },
        "champion_ref": None,
        "reference": None,
    }


def earlier_version(ws: Workspace, dataset: str, content_hash: str) -> str | None:
    """'name@N' of the newest version of ``dataset`` with other bytes, or None.

    The new data is validated against it: a column that vanished or changed type
    stops the run before any model is trained on it.
    """
    from sluice.data import list_versions
    from sluice.errors import NotFound

    try:
        versions = list_versions(ws, dataset)
    except NotFound:
        return None
    others = [v for v in versions if v.content_hash != content_hash]
    return others[-1].ref if others else None


def champion_ref(ws: Workspace, model_name: str, params: dict[str, Any]) -> str | None:
    """What the run compares with: 'VERSION:ARTIFACT_HASH' of the champion, or None.

    When the champion was produced by a run with these very parameters, the run
    would only compare the model with itself: it takes the reference that run had,
    so an identical re-run stays a full cache hit.
    """
    from sluice.pipelines import get_run
    from sluice.registry import champion

    found = champion(ws, model_name)
    if found is None:
        return None
    if found.pipeline_run_id is not None:
        earlier = dict(get_run(ws, found.pipeline_run_id).params)
        if _same(earlier, params):
            ref = earlier.get("champion_ref")
            return None if ref is None else str(ref)
    return f"{found.version}:{found.artifact_hash}"


def _same(earlier: dict[str, Any], params: dict[str, Any]) -> bool:
    def plain(d: dict[str, Any]) -> str:
        return json.dumps({k: v for k, v in d.items() if k != "champion_ref"}, sort_keys=True)

    return plain(earlier) == plain(params)


@dataclass(frozen=True)
class JobResult:
    """What one ``sluice run`` did: the run, its summary (also the --json output), the report."""

    run_id: str
    summary: dict[str, Any]
    report_path: Path
    exit_code: int


def run_job(
    ws: Workspace,
    config: JobConfig,
    *,
    on_event: Callable[[Any], Any] | None = None,
    report_dir: Path | None = None,
    plan: Plan | None = None,
) -> JobResult:
    """Check, run, summarize and report the main job. Input errors raise before anything runs.

    ``plan`` is :func:`plan_job`'s result when the caller checked the input already.
    """
    from sluice.reports.run_report import write_run_report
    from sluice.templates.tabular.summary import summarize

    plan = plan or plan_job(config)
    started = time.perf_counter()
    failure: StepFailed | None = None
    try:
        params = pipeline_params(config, plan)
        params["reference"] = earlier_version(ws, config.data.dataset_name, plan.content_hash)
        params["champion_ref"] = champion_ref(ws, config.model.name, params)
        with contextlib.closing(open_executor(config.executor_spec)) as executor:
            run = tabular.run(ws, on_event=on_event, executor=executor, **params)
        run_id = run.id
    except StepFailed as exc:
        if exc.run_id is None:
            raise
        failure, run_id = exc, exc.run_id
    elapsed = time.perf_counter() - started
    summary = summarize(ws, config, plan, run_id, elapsed, failure)
    figures = summary.pop("plots")
    folder = report_dir or ws.settings.home / "reports"
    report = write_run_report(summary, folder / f"run-{run_id}.html", figures)
    summary["report"] = str(report)
    return JobResult(run_id, summary, report, _exit_code(summary, failure))


def _exit_code(summary: dict[str, Any], failure: StepFailed | None) -> int:
    if failure is not None:
        cause = failure.__cause__
        return cause.exit_code if isinstance(cause, ValidationFailed) else failure.exit_code
    return 0 if summary["outcome"]["ok"] else 1
