"""The run's report: one JSON document, and the table printed at the end."""

from __future__ import annotations

import math
import os
import platform
from datetime import UTC, datetime
from typing import Any

from interpol_offices.loadtest import traffic
from interpol_offices.loadtest.stats import summary_ms
from interpol_offices.loadtest.tracker import STAGES


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in load], "python": platform.python_version(),
            "platform": platform.platform()}  # fmt: skip


def build(
    *, config: dict[str, Any], mesh: dict[str, Any], tracker: Any, accounting: dict[str, Any], broadcast: dict[str, Any] | None,
    t_end_send: float, load_before: list[float],
) -> dict[str, Any]:  # fmt: skip
    e2e, stages, api = tracker.stage_summary()
    if not tracker.traced and accounting.get("request_to_fetch_ms"):
        e2e = {
            **accounting["request_to_fetch_ms"],
            "note": "no spans: request to the recipient's fetch (received_at), before verify and commit",
        }
    commits = [msg_done[2] for msg in tracker.messages.values() for msg_done in msg.done.values()]
    last = max(commits) if commits else t_end_send
    window = max(1e-9, max(last, t_end_send) - tracker.t0)
    send_window = max(1e-9, t_end_send - tracker.t0)
    offered = sum(s.offered for s in tracker.series.seconds.values())
    accepted = sum(s.accepted for s in tracker.series.seconds.values())
    errors = dict(tracker.errors)
    for reason, n in accounting["rejected_by_reason"].items():
        errors[f"rejected at recipient: {reason}"] = n
    committed = accounting["committed"]
    return {
        "lost": accounting["lost"],
        "duplicates": accounting["duplicates"],
        "throughput": round(committed / window, 1),
        "p50_ms": e2e.get("p50"),
        "p95_ms": e2e.get("p95"),
        "p99_ms": e2e.get("p99"),
        "max_ms": e2e.get("max"),
        "latency_ms": e2e,
        "throughput_detail": {
            "unit": "throughput = deliveries (message x recipient) committed at recipients per second, first request to last commit",
            "offered_ops_per_s": round(offered / send_window, 1),
            "accepted_ops_per_s": round(accepted / send_window, 1),
            "deliveries_committed_per_s": round(committed / window, 1),
            "window_s": round(window, 2),
        },
        "counts": {
            "operations_offered": offered,
            "operations_accepted": accepted,
            "deliveries": accounting["deliveries"],
            "committed": committed,
            "acknowledgements": tracker.acks_requested,
        },
        "stages_ms": stages if tracker.traced else None,
        "api_response_ms": api,
        "generator_lag_ms": summary_ms(tracker.lag),
        "errors": errors,
        "accounting": accounting,
        "by_operation": tracker.by_op(),
        "broadcast": broadcast,
        "timeseries": tracker.series.rows(),
        "config": {
            **config,
            "mix": traffic.weights(frozenset(config.get("disabled_ops", ()))),
            "mix_basis": {s.op: f"{s.per_day:g}/day: {s.basis}" for s in traffic.MIX},
        },
        "mesh": mesh,
        "machine": {**machine(), "load_average_before": load_before},
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _f(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.1f}" if isinstance(x, float) else str(x)


def table(r: dict[str, Any]) -> str:
    t, c, m, cfg = r["throughput_detail"], r["counts"], r["mesh"], r["config"]
    burst = cfg.get("burst")
    lines = [
        f"interpol-mesh load: {m['ncbs']} NCBs ({m['offices']} offices, {m.get('processes') or '?'} processes, {m['database']}), "
        f"{cfg['rate']:g} ops/s for {cfg['duration_s']:g} s"
        + (
            f", burst {burst['region']} x{burst['factor']:g} at {burst['start_s']:g}-{burst['start_s'] + burst['duration_s']:g} s"
            if burst
            else ""
        ),
        "",
        f"  operations offered    {c['operations_offered']:>9}  ({t['offered_ops_per_s']}/s)",
        f"  operations accepted   {c['operations_accepted']:>9}  ({t['accepted_ops_per_s']}/s)",
        f"  deliveries committed  {c['committed']:>9}  of {c['deliveries']}  -> throughput {r['throughput']} deliveries/s",
        f"  lost / duplicates     {r['lost']:>9} / {r['duplicates']}",
        f"  errors                {sum(r['errors'].values()):>9}"
        + "".join(f"\n      {n:>7}  {k}" for k, n in sorted(r["errors"].items(), key=lambda kv: -kv[1])[:8]),
        f"  receipts missing      {r['accounting']['delivered_receipts_missing']:>9}   signatures re-verified: {r['accounting']['signatures_reverified']}",
        "",
        f"  {'latency (ms)':<22}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}{'count':>9}",
    ]

    def row(name: str, s: dict[str, Any] | None) -> None:
        if s and s.get("count"):
            lines.append(f"  {name:<22}" + "".join(f"{_f(s.get(k)):>9}" for k in ("p50", "p95", "p99", "max", "count")))

    row("end to end" if r["stages_ms"] else "request to fetch", r["latency_ms"])
    if r["stages_ms"]:
        for stage in STAGES:
            row(f"  {stage}", r["stages_ms"][stage])
    else:
        lines.append("    (stages need the offices' spans: run without --attach)")
    row("API response", r["api_response_ms"])
    row("generator lag", r["generator_lag_ms"])
    for op, v in sorted(r["by_operation"].items()):
        row(f"  {op}", v["latency_ms"])
    b = r.get("broadcast")
    if b and b.get("notices"):
        n = b["notices"]
        lines += ["", f"  broadcast: {len(n)} published notice(s) to {n[0]['recipients']} NCBs; per recipient p50 "
                      f"{_f(b['per_recipient_ms'].get('p50'))} p99 {_f(b['per_recipient_ms'].get('p99'))} ms; "
                      f"last commit max {_f(b['last_commit_ms'].get('max'))} ms"]  # fmt: skip
    prof = r.get("profile")
    if prof:
        lines += ["", f"  profile (py-spy, {prof['samples']} samples over the office processes): top self time"]
        lines += [f"    {pct:5.1f}%  {func}" for func, pct in prof["self_top"][:12]]
    lines.append(
        f"  machine: {r['machine']['cpus']} cpus, load average before {r['machine']['load_average_before']} after {r['machine']['load_average']}"
    )
    return "\n".join(lines)
