"""The summary of one main-job run: what ``--json`` prints, the story and the report show.

Built from the recorded run (step statuses, timings, cache hits) and the small
JSON outputs of its steps, so a cached re-run summarizes exactly like the run
it reused. Frames and models are never loaded here.
"""

from __future__ import annotations

from typing import Any

from sluice.errors import StepFailed, ValidationFailed
from sluice.templates.tabular.checks import Plan
from sluice.templates.tabular.config import JobConfig
from sluice.templates.tabular.plain import plain
from sluice.workspace import Workspace

# (step, output) pairs holding JSON the summary reads.
JSON_OUTPUTS = {
    "data": ("version_data", None),
    "validation": ("validate_data", None),
    "cleaning": ("clean", "cleaning"),
    "split": ("split", "split"),
    "selection": ("select_model", "selection"),
    "evaluation": ("evaluate", None),
    "champion": ("compare_champion", None),
    "verdicts": ("check_gates", None),
    "registered": ("register", None),
}


def summarize(
    ws: Workspace,
    config: JobConfig,
    plan: Plan,
    run_id: str,
    elapsed: float,
    failure: StepFailed | None,
) -> dict[str, Any]:
    """Everything a person or a script needs to know about the run, as plain JSON."""
    from sluice.pipelines.results import get_run

    run = get_run(ws, run_id)
    out = _load_outputs(run)
    evaluation = out.get("evaluation") or {}
    summary: dict[str, Any] = {
        "run_id": run.id,
        "status": run.status.value,
        "project": config.project.model_dump(mode="json"),
        "task": plan.task,
        "target": config.data.target,
        "metric": plan.metric,
        "model_name": config.model.name,
        "sluice_version": _version(),
        "data": out.get("data"),
        "validation": {"anomalies": _anomalies(out.get("validation"), failure)},
        "cleaning": out.get("cleaning"),
        "split": out.get("split"),
        **_selection(out.get("selection")),
        **_evaluation(evaluation),
        "champion": out.get("champion"),
        "gates": _gates(out.get("verdicts")),
        "registered": out.get("registered"),
        "steps": [_step(s) for s in run.steps],
        "timing": {"total": elapsed, "cache_hits": run.cache_hits, "steps": len(run.steps)},
        "error": None if failure is None else str(failure),
    }
    summary["outcome"] = _outcome(summary, failure)
    summary["plots"] = evaluation.get("plots") or {}
    return summary


def _load_outputs(run: Any) -> dict[str, Any]:
    done = {s.name for s in run.steps if s.status.value in ("completed", "cached")}
    found: dict[str, Any] = {}
    for key, (step, name) in JSON_OUTPUTS.items():
        if step in done:
            found[key] = run.output(step, name)
    return found


def _anomalies(validation: dict[str, Any] | None, failure: StepFailed | None) -> list[Any]:
    if validation is not None:
        return list(validation.get("anomalies", []))
    cause = failure.__cause__ if failure is not None else None
    if isinstance(cause, ValidationFailed) and isinstance(cause.report, list):
        return cause.report
    return []


def _selection(selection: dict[str, Any] | None) -> dict[str, Any]:
    if not selection:
        return {"leaderboard": [], "choice": None}
    winner = selection["winner"]
    board = [
        {
            "name": r["name"],
            "cv_mean": r["cv_mean"],
            "cv_std": r["cv_std"],
            "fit_time": r["fit_seconds"],
            "latency_us": r["predict_seconds_per_row"] * 1e6,
            "size_bytes": r["size_bytes"],
            "interpretability": r["interpretability"],
            "baseline": r["baseline"],
            "run_id": r.get("run_id"),
            "chosen": r["name"] == winner,
        }
        for r in selection["leaderboard"]
    ]
    return {"leaderboard": board, "choice": {"winner": winner, "reasons": selection["reasons"]}}


def _evaluation(ev: dict[str, Any]) -> dict[str, Any]:
    if not ev:
        return {"holdout": None, "flags": [], "slices": [], "weakest_slices": [],
                "importance": [], "learning_curve": None}  # fmt: skip
    flags = [
        {"kind": kind, "message": f"{ev[kind]['detail']} (rule: {ev[kind]['rule']})"}
        for kind in ("overfitting", "underfitting")
        if ev.get(kind, {}).get("flagged")
    ]
    curve = ev.get("learning_curve")
    return {
        "holdout": {
            "metrics": ev["metrics"],
            "baseline": ev["baseline_metrics"],
            "train": ev.get("train_metrics", {}),
            "latency_ms_per_row": ev.get("latency_ms_per_row"),
            "size_bytes": ev.get("size_bytes"),
        },
        "flags": flags,
        "slices": ev.get("slices", []),
        "weakest_slices": ev.get("weakest_slices", []),
        "importance": ev.get("importance", []),
        "learning_curve": None
        if not curve
        else {
            "sizes": curve["train_sizes"],
            "train": curve["train_scores"],
            "valid": curve["valid_scores"],
            "more_data_helps": curve["more_data_helps"],
            "verdict": curve["verdict"],
        },
    }


def _gates(verdicts: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not verdicts:
        return []
    return [{"name": r["gate"], **{k: v for k, v in r.items() if k != "gate"}}
            for r in verdicts["results"]]  # fmt: skip


def _step(info: Any) -> dict[str, Any]:
    return plain(
        {"name": info.name, "status": info.status, "cached": info.cached,
         "duration": info.duration, "attempts": info.attempts, "host": info.host,
         "error": info.error}
    )  # fmt: skip


def _outcome(s: dict[str, Any], failure: StepFailed | None) -> dict[str, Any]:
    """One sentence on how the run ended, and whether the exit code is 0."""
    if failure is not None:
        step = failure.step or "a step"
        return {"ok": False, "message": f"The run stopped at {step}: {failure}"}
    failed = [g["name"] for g in s["gates"] if not g["passed"]]
    if failed:
        return {
            "ok": False,
            "message": f"{len(failed)} of {len(s['gates'])} gates failed ({', '.join(failed)}): "
            "nothing was registered.",
        }
    reg = s["registered"]
    if reg is None:
        return {"ok": False, "message": "Nothing was registered."}
    aliases = ", ".join(reg["aliases"]) or "no aliases"
    if any(st["name"] == "register" and st["cached"] for st in s["steps"]):
        return {
            "ok": True,
            "message": f"Nothing new to register: an identical earlier run registered "
            f"{reg['uri']} ({aliases}).",
        }
    return {"ok": True, "message": f"Registered {reg['uri']} ({aliases})."}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sluice")
    except PackageNotFoundError:
        return "unknown"
