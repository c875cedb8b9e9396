"""The main job's result as a Markdown summary for CI (a pull request's checks page).

Built from the run's summary (what ``sluice run --json`` prints), so a re-run
of an unchanged job, all cache hits, reports exactly what the first run found.
"""

from __future__ import annotations

from typing import Any


def markdown_summary(s: dict[str, Any]) -> str:
    """A heading with the verdict, the run's facts, and every gate with its reason."""
    ok = bool(s["outcome"]["ok"])
    gates = s.get("gates") or []
    failed = [g for g in gates if not g["passed"]]
    head = (
        "passed every gate"
        if ok
        else (f"failed {len(failed)} of {len(gates)} gates" if failed else "did not finish")
    )
    lines = [f"## {'✅' if ok else '❌'} sluice ci: {s['model_name']} {head}", ""]
    lines += [s["outcome"]["message"], "", "| | |", "| --- | --- |"]
    data = s.get("data")
    if data:
        lines.append(
            f"| data | `{data['name']}@{data['version']}`: {data['n_rows']:,} rows, "
            f"hash `{data['content_hash'][:12]}` |"
        )
    timing = s["timing"]
    lines.append(
        f"| pipeline run | `{s['run_id'][:12]}`: {timing['cache_hits']} of {timing['steps']} "
        f"steps cached, {timing['total']:.2f} s |"
    )
    if s.get("choice"):
        lines.append(f"| chosen | {s['choice']['winner']} |")
    lines += _metric_rows(s)
    reg = s.get("registered")
    if reg:
        aliases = ", ".join(reg["aliases"]) or "no aliases"
        lines.append(f"| registered | `{reg['uri']}` ({aliases}) |")
    if gates:
        lines += ["", "| gate | verdict | reason |", "| --- | --- | --- |"]
        for g in gates:
            verdict = "✅ pass" if g["passed"] else "❌ fail"
            lines.append(f"| {_cell(g['name'])} | {verdict} | {_cell(g['reason'])} |")
    if s.get("error"):
        lines += ["", f"Error: {_cell(s['error'])}"]
    return "\n".join(lines) + "\n"


def _metric_rows(s: dict[str, Any]) -> list[str]:
    holdout = s.get("holdout")
    if not holdout:
        return []
    metric = s["metric"]
    value = holdout["metrics"].get(metric)
    parts = [f"baseline {_num(holdout['baseline'].get(metric))}"]
    champion = s.get("champion")
    if champion:
        parts.append(f"champion v{champion['version']} {_num(champion['metrics'].get(metric))}")
    return [f"| holdout {metric} | {_num(value)} ({'; '.join(parts)}) |"]


def _num(value: Any) -> str:
    return "–" if value is None else f"{value:.4g}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
