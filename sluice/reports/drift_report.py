"""The drift report: one self-contained HTML page per evaluated monitor window.

Rendered from the result's stored summary alone (the same mapping ``sluice
monitor show --json`` prints), so a stored result can be rendered again at any
time and the page never disagrees with the machine output. Charts are inline SVG
drawn here (reference against current, per column); nothing is fetched.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

TEMPLATE = "drift_report.html.j2"
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 460, 220, 40, 56, 22
REFERENCE_COLOR, CURRENT_COLOR = "#2563eb", "#dc2626"


def render_drift_report(summary: Mapping[str, Any]) -> str:
    """The HTML page of one window's summary (see ``sluice.monitoring.evaluate``)."""
    drift = summary.get("data_drift") or {}
    charts = {
        name: distribution_chart(name, dist)
        for name, dist in (summary.get("distributions") or {}).items()
    }
    predictions = summary.get("prediction_distribution")
    return _template().render(
        s=summary,
        columns=drift.get("columns") or [],
        charts=charts,
        prediction_chart=distribution_chart("prediction", predictions) if predictions else "",
    )


@functools.cache
def _template() -> Any:
    """The compiled template, once per process: a run renders one page per window."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["when"] = _when
    env.filters["share"] = _share
    return env.get_template(TEMPLATE)


def distribution_chart(name: str, dist: Mapping[str, Any]) -> Markup:
    """Reference and current shares side by side: per bin (numeric) or per category."""
    ref = [float(v) for v in dist.get("reference") or ()]
    cur = [float(v) for v in dist.get("current") or ()]
    if not ref or len(ref) != len(cur):
        return Markup("")
    if dist.get("kind") == "numeric":
        edges = [float(e) for e in dist.get("edges") or ()]
        labels = [_fmt(edges[0]), _fmt(edges[-1])] if edges else []
        return _grouped(name, ref, cur, labels, numeric=True)
    return _grouped(name, ref, cur, [str(v) for v in dist.get("labels") or ()], numeric=False)


def _grouped(
    name: str, ref: Sequence[float], cur: Sequence[float], labels: Sequence[str], *, numeric: bool
) -> Markup:
    top = max(max(ref), max(cur), 1e-12)
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - TOP
    slot = plot_w / len(ref)
    bar = max(slot / 2 - 1, 0.5)
    base_y = TOP + plot_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" font-family="sans-serif" font-size="10" role="img">'
        f"<title>{escape(name)}: reference against current</title>"
        f'<text x="{LEFT}" y="12" font-weight="bold">{escape(_short(name, 40))}</text>'
        f'<rect x="{WIDTH - 150}" y="4" width="9" height="9" fill="{REFERENCE_COLOR}"/>'
        f'<text x="{WIDTH - 138}" y="12">reference</text>'
        f'<rect x="{WIDTH - 80}" y="4" width="9" height="9" fill="{CURRENT_COLOR}"/>'
        f'<text x="{WIDTH - 68}" y="12">current</text>'
        f'<line x1="{LEFT}" y1="{base_y}" x2="{WIDTH - 10}" y2="{base_y}" stroke="#444"/>'
        f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end">{top:.0%}</text>'
        f'<text x="{LEFT - 4}" y="{base_y}" text-anchor="end">0</text>'
    ]
    for i, (r, c) in enumerate(zip(ref, cur, strict=True)):
        x = LEFT + i * slot
        for offset, value, color in ((0.0, r, REFERENCE_COLOR), (bar, c, CURRENT_COLOR)):
            h = value / top * plot_h
            parts.append(
                f'<rect x="{x + offset + 0.5:.1f}" y="{base_y - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{color}" fill-opacity="0.8">'
                f"<title>{value:.1%}</title></rect>"
            )
        if not numeric and i < len(labels):
            lx, ly = x + slot / 2, base_y + 10
            parts.append(
                f'<text x="{lx:.1f}" y="{ly}" text-anchor="end" '
                f'transform="rotate(-35 {lx:.1f} {ly})">{escape(_short(labels[i], 14))}</text>'
            )
    if numeric and len(labels) == 2:
        parts.append(
            f'<text x="{LEFT}" y="{base_y + 14}">{escape(labels[0])}</text>'
            f'<text x="{WIDTH - 10}" y="{base_y + 14}" text-anchor="end">{escape(labels[1])}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "–"
        return _fmt(value, digits)
    return str(value)


def _fmt(value: float, digits: int = 4) -> str:
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.2e}"
    return f"{value:.{digits}g}"


def _share(value: Any) -> str:
    return "–" if not isinstance(value, int | float) else f"{value:.1%}"


def _when(ts: Any) -> str:
    if not isinstance(ts, int | float):
        return "–"
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
