"""A self-contained HTML page (inline SVG, no script, no network) of throughput and latency over time."""

from __future__ import annotations

import html
import json
import math
from typing import Any

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 900, 260, 60, 20, 20, 36
COLORS = {
    "offered": "#9aa5b1",
    "accepted": "#3e7cb1",
    "commits": "#2a9d8f",
    "p50_ms": "#3e7cb1",
    "p99_ms": "#e76f51",
    "max_ms": "#bbbbbb",
}


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10.0 ** math.floor(math.log10(v))
    for step in (1, 2, 2.5, 5, 10):
        if v <= step * exp:
            return step * exp
    return 10 * exp


def _chart(
    rows: list[dict[str, Any]], keys: list[str], unit: str, title: str, burst: tuple[float, float] | None
) -> str:
    if not rows:
        return f"<p>{html.escape(title)}: no data</p>"
    t_max = float(max(r["t"] for r in rows)) + 1
    values = [r[k] for r in rows for k in keys if r.get(k) is not None]
    y_max = _nice_max(max(values) if values else 1.0)

    def x(t: float) -> float:
        return PAD_L + (W - PAD_L - PAD_R) * t / t_max

    def y(v: float) -> float:
        return H - PAD_B - (H - PAD_T - PAD_B) * min(v, y_max) / y_max

    parts = [f'<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
             f'<text x="{PAD_L}" y="13" font-weight="bold">{html.escape(title)}</text>']  # fmt: skip
    if burst:
        parts.append(f'<rect x="{x(burst[0]):.1f}" y="{PAD_T}" width="{x(burst[1]) - x(burst[0]):.1f}" '
                     f'height="{H - PAD_T - PAD_B}" fill="#f4a261" opacity="0.15"/>')  # fmt: skip
        parts.append(f'<text x="{x(burst[0]) + 3:.1f}" y="{PAD_T + 12}" fill="#b5651d">burst</text>')
    for i in range(5):
        v = y_max * i / 4
        parts.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{PAD_L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    step = _nice_max(t_max / 10)
    t = 0.0
    while t <= t_max:
        parts.append(f'<text x="{x(t):.1f}" y="{H - PAD_B + 14}" text-anchor="middle">{t:g}</text>')
        t += step
    parts.append(
        f'<text x="{(W + PAD_L) / 2}" y="{H - 4}" text-anchor="middle">seconds since start ({html.escape(unit)})</text>'
    )
    for k in keys:
        pts = " ".join(f"{x(r['t'] + 0.5):.1f},{y(r[k]):.1f}" for r in rows if r.get(k) is not None)
        if pts:
            parts.append(f'<polyline fill="none" stroke="{COLORS.get(k, "#333")}" stroke-width="1.6" points="{pts}"/>')
    legend_x = W - PAD_R - 110 * len(keys)
    for i, k in enumerate(keys):
        lx = legend_x + 110 * i
        parts.append(f'<rect x="{lx}" y="5" width="12" height="4" fill="{COLORS.get(k, "#333")}"/>'
                     f'<text x="{lx + 16}" y="11">{html.escape(k)}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def render(report: dict[str, Any], table_text: str) -> str:
    rows = report["timeseries"]
    b = report["config"].get("burst")
    burst = (b["start_s"], b["start_s"] + b["duration_s"]) if b else None
    throughput = _chart(
        rows,
        ["offered", "accepted", "commits"],
        "per second",
        "Throughput: operations offered and accepted, deliveries committed",
        burst,
    )
    latency = _chart(
        rows,
        ["p50_ms", "p99_ms"],
        "ms, by commit second",
        "End-to-end latency, request to commit at the recipient",
        burst,
    )
    summary = {k: report[k] for k in ("lost", "duplicates", "throughput", "p50_ms", "p95_ms", "p99_ms", "max_ms")}
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>interpol-mesh load report</title>
<style>body{{font-family:sans-serif;margin:24px;color:#222}} pre{{background:#f6f8fa;padding:12px;overflow:auto}}</style>
</head><body>
<h1>interpol-mesh load report</h1>
<p>{html.escape(json.dumps(summary))}</p>
{throughput}
{latency}
<h2>Summary</h2>
<pre>{html.escape(table_text)}</pre>
</body></html>
"""
