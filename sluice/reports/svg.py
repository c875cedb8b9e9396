"""Tiny inline SVG charts for self-contained HTML reports.

Reports must open offline and carry no script or CDN, and matplotlib costs a
second of import for a few lines and bars; these helpers draw the shapes
the reports draw themselves (horizontal bars, lines) as plain SVG strings. All
text goes through ``markupsafe.escape`` so column names cannot inject markup.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 560, 260, 44
COLORS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea")


def bars(labels: Sequence[str], values: Sequence[float], *, title: str = "") -> Markup:
    """Horizontal bars, largest first as given; negative values drawn at zero length."""
    if not values:
        return Markup("")
    row = 18
    height = PAD + row * len(values)
    top = max(max(values), 1e-12)
    label_w = 180
    parts = [_open(WIDTH, height, title)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 24 + i * row
        w = max(0.0, value) / top * (WIDTH - label_w - 70)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end">{escape(_short(label))}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row - 5}" '
            f'fill="{COLORS[0]}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 12}">{_fmt(value)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def lines(
    xs: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    diagonal: bool = False,
) -> Markup:
    """One or more line series over shared x values, with a legend."""
    clean = {k: [float(v) for v in vs] for k, vs in series.items() if vs}
    if not xs or not clean:
        return Markup("")
    ys = [v for vs in clean.values() for v in vs if math.isfinite(v)]
    box = _Box([float(x) for x in xs], ys)
    parts = [_open(WIDTH, HEIGHT, title), box.axes(x_label, y_label)]
    if diagonal:
        parts.append(
            f'<line x1="{box.x(box.x0)}" y1="{box.y(box.y0)}" x2="{box.x(box.x1)}" '
            f'y2="{box.y(box.y1)}" stroke="#999" stroke-dasharray="4 3"/>'
        )
    for i, (name, vs) in enumerate(clean.items()):
        pts = " ".join(
            f"{box.x(float(x)):.1f},{box.y(v):.1f}"
            for x, v in zip(xs, vs, strict=False)
            if math.isfinite(v)
        )
        color = COLORS[i % len(COLORS)]
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts.append(
            f'<text x="{WIDTH - 150}" y="{30 + 14 * i}" fill="{color}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


class _Box:
    """Maps data coordinates into the plotting area."""

    def __init__(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        self.x0, self.x1 = _span(xs)
        self.y0, self.y1 = _span(ys)

    def x(self, v: float) -> float:
        return PAD + (v - self.x0) / (self.x1 - self.x0) * (WIDTH - PAD - 10)

    def y(self, v: float) -> float:
        return HEIGHT - PAD + 10 - (v - self.y0) / (self.y1 - self.y0) * (HEIGHT - PAD - 20)

    def axes(self, x_label: str, y_label: str) -> str:
        bottom, right = HEIGHT - PAD + 10, WIDTH - 10
        return (
            f'<line x1="{PAD}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#444"/>'
            f'<line x1="{PAD}" y1="10" x2="{PAD}" y2="{bottom}" stroke="#444"/>'
            f'<text x="{PAD}" y="{bottom + 14}">{_fmt(self.x0)}</text>'
            f'<text x="{right}" y="{bottom + 14}" text-anchor="end">{_fmt(self.x1)}</text>'
            f'<text x="{PAD - 4}" y="{bottom}" text-anchor="end">{_fmt(self.y0)}</text>'
            f'<text x="{PAD - 4}" y="18" text-anchor="end">{_fmt(self.y1)}</text>'
            f'<text x="{(PAD + right) / 2}" y="{HEIGHT - 4}" text-anchor="middle">'
            f"{escape(x_label)}</text>"
            f'<text x="12" y="{HEIGHT / 2}" transform="rotate(-90 12 {HEIGHT / 2})" '
            f'text-anchor="middle">{escape(y_label)}</text>'
        )


def spread(quantiles: Mapping[str, float], low: float, high: float) -> Markup:
    """A one-line picture of a numeric column: p01–p99 as a thin line, p25–p75 as a
    box, the median as a tick, on the column's min–max scale."""
    width, height, pad = 160, 18, 4
    keys = ("p01", "p25", "p50", "p75", "p99")
    if not all(isinstance(quantiles.get(k), int | float) for k in keys):
        return Markup("")
    span = high - low if high > low else 1.0

    def x(value: float) -> float:
        return pad + (value - low) / span * (width - 2 * pad)

    p01, p25, p50, p75, p99 = (float(quantiles[k]) for k in keys)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img"><title>p01 {_fmt(p01)}, p25 {_fmt(p25)}, median {_fmt(p50)}, '
        f"p75 {_fmt(p75)}, p99 {_fmt(p99)}</title>"
        f'<line x1="{x(p01):.1f}" y1="9" x2="{x(p99):.1f}" y2="9" stroke="#64748b"/>'
        f'<rect x="{x(p25):.1f}" y="3" width="{max(x(p75) - x(p25), 1):.1f}" height="12" '
        f'fill="#bfdbfe" stroke="#2563eb"/>'
        f'<line x1="{x(p50):.1f}" y1="2" x2="{x(p50):.1f}" y2="16" stroke="#1e3a8a" '
        f'stroke-width="2"/></svg>'
    )


def mini_bars(counts: Sequence[tuple[str, float]]) -> Markup:
    """The most frequent values of a column as tiny bars with their names on hover."""
    if not counts:
        return Markup("")
    width, bar, gap = 160, 8, 2
    top = max(float(c) for _, c in counts) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{len(counts) * (bar + gap)}" role="img"><title>most frequent values</title>'
    ]
    for i, (name, count) in enumerate(counts):
        parts.append(
            f'<rect x="0" y="{i * (bar + gap)}" width="{max(float(count) / top * width, 1):.1f}" '
            f'height="{bar}" fill="#93c5fd"><title>{escape(str(name))}: {_fmt(float(count))}'
            "</title></rect>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


STATUS_FILL = {
    "completed": "#dcfce7",
    "cached": "#dbeafe",
    "failed": "#fee2e2",
    "running": "#fef9c3",
}


def dag(
    nodes: Sequence[tuple[str, str, str]],
    edges: Sequence[tuple[str, str]],
    *,
    title: str = "",
    link: str = "",
) -> Markup:
    """A graph of ``(name, status, label)`` nodes, one row per depth (a node sits one row
    below the deepest node it depends on), arrows from ``edges`` (from, to); a node
    links to ``link + name`` when ``link`` is given."""
    if not nodes:
        return Markup("")
    names = [n for n, _, _ in nodes]
    parents: dict[str, list[str]] = {n: [] for n in names}
    for a, b in edges:
        if a in parents and b in parents and a != b:
            parents[b].append(a)
    depth: dict[str, int] = {}
    for name in names:  # nodes come in run order, so parents come first
        depth[name] = 1 + max((depth.get(p, 0) for p in parents[name]), default=-1)
    rows: dict[int, list[str]] = {}
    for name in names:
        rows.setdefault(depth[name], []).append(name)
    box_w, box_h, gap_x, gap_y = 150, 34, 24, 30
    width = max(len(r) for r in rows.values()) * (box_w + gap_x) + gap_x
    height = len(rows) * (box_h + gap_y) + gap_y
    at: dict[str, tuple[float, float]] = {}
    for level, row in rows.items():
        offset = (width - len(row) * (box_w + gap_x) + gap_x) / 2
        for i, name in enumerate(row):
            at[name] = (offset + i * (box_w + gap_x), gap_y + level * (box_h + gap_y))
    parts = [
        _open(width, height, title),
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#64748b"/></marker>'
        "</defs>",
    ]
    for child, ps in parents.items():
        for parent in ps:
            (x1, y1), (x2, y2) = at[parent], at[child]
            parts.append(
                f'<line x1="{x1 + box_w / 2:.1f}" y1="{y1 + box_h:.1f}" x2="{x2 + box_w / 2:.1f}" '
                f'y2="{y2:.1f}" stroke="#64748b" marker-end="url(#arrow)"/>'
            )
    for name, status, label in nodes:
        x, y = at[name]
        fill = STATUS_FILL.get(status, "#f1f5f9")
        box = (
            f"<g><title>{escape(name)}: {escape(label)}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{box_w}" height="{box_h}" rx="5" '
            f'fill="{fill}" stroke="#475569"/>'
            f'<text x="{x + box_w / 2:.1f}" y="{y + 14:.1f}" text-anchor="middle" '
            f'font-weight="600">{escape(_short(name, 22))}</text>'
            f'<text x="{x + box_w / 2:.1f}" y="{y + 27:.1f}" text-anchor="middle" '
            f'fill="#334155">{escape(_short(label, 24))}</text></g>'
        )
        if link:
            box = f'<a href="{escape(link + name)}">{box}</a>'
        parts.append(box)
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="11" role="img">'
        f"<title>{escape(title)}</title>"
    )


def _span(values: Sequence[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _fmt(value: float) -> str:
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.2e}"
    return f"{value:.4g}"


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
