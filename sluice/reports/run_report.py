"""The HTML run report of the main job: one self-contained page per pipeline run.

It is rendered from the job's summary (the same mapping ``sluice run --json``
prints), so the page, the terminal story and the machine output never disagree.
Jinja2 autoescapes everything; plots are inline SVG; nothing is fetched.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from markupsafe import Markup

from sluice.reports import svg

TEMPLATE = "run_report.html.j2"


def render_run_report(summary: Mapping[str, Any], figures: Mapping[str, str] | None = None) -> str:
    """The report's HTML for one run summary.

    ``figures`` are SVG documents drawn by sluice itself (sluice.models.plots);
    they are inlined as they are. Charts they do not cover are drawn here.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    plots = _plots(summary)
    plots.update({k: Markup(v) for k, v in (figures or {}).items()})
    return env.get_template(TEMPLATE).render(s=summary, plots=plots)


def write_run_report(
    summary: Mapping[str, Any],
    path: str | os.PathLike[str],
    figures: Mapping[str, str] | None = None,
) -> Path:
    """Render and write atomically (temp file, fsync, rename): a reader never sees half a page."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    from sluice.artifacts.local import atomic_write

    atomic_write(target, render_run_report(summary, figures).encode("utf-8"))
    return target


def _plots(s: Mapping[str, Any]) -> dict[str, Markup]:
    """Every chart the page shows, drawn from the summary's numbers."""
    plots: dict[str, Markup] = {}
    board = s.get("leaderboard") or []
    if board:
        plots["leaderboard"] = svg.bars(
            [r["name"] for r in board],
            [r["cv_mean"] for r in board],
            title=f"cross-validated {s.get('metric', '')}",
        )
    importance = s.get("importance") or []
    if importance:
        top = importance[:15]
        plots["importance"] = svg.bars(
            [r["column"] for r in top], [r["mean"] for r in top], title="permutation importance"
        )
    curve = s.get("learning_curve") or {}
    if curve.get("sizes"):
        plots["learning_curve"] = svg.lines(
            curve["sizes"],
            {"train": curve.get("train", []), "validation": curve.get("valid", [])},
            title="learning curve",
            x_label="training rows",
            y_label=str(s.get("metric", "")),
        )
    return plots


def _num(value: Any, digits: int = 4) -> str:
    """Numbers for people: a few significant digits; blanks for missing values."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "–"
        return f"{value:.{digits}g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)
