"""Percentiles and per-second series, in milliseconds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from interpol_mesh.stats import percentile

__all__ = ["PERCENTILES", "Second", "Series", "percentile", "summary_ms"]

PERCENTILES = (50, 95, 99)


def summary_ms(seconds: Sequence[float]) -> dict[str, float | int]:
    """count, p50, p95, p99, max and mean of durations given in seconds, reported in ms."""
    values = sorted(seconds)
    if not values:
        return {"count": 0}
    out: dict[str, float | int] = {"count": len(values)}
    for p in PERCENTILES:
        out[f"p{p}"] = round(percentile(values, p) * 1000, 2)
    out["max"] = round(values[-1] * 1000, 2)
    out["mean"] = round(sum(values) / len(values) * 1000, 2)
    return out


@dataclass
class Second:
    offered: int = 0
    accepted: int = 0
    errors: int = 0
    commits: int = 0
    latencies: list[float] = field(default_factory=list)


class Series:
    """Counts per whole second since `t0`: requests by send time, commits and latency by commit time."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.seconds: dict[int, Second] = {}

    def at(self, t: float) -> Second:
        key = int(t - self.t0) if t >= self.t0 else -1
        sec = self.seconds.get(key)
        if sec is None:
            sec = self.seconds[key] = Second()
        return sec

    def rows(self) -> list[dict[str, float | int | None]]:
        out: list[dict[str, float | int | None]] = []
        for key in sorted(k for k in self.seconds if k >= 0):
            sec = self.seconds[key]
            lat = sorted(sec.latencies)
            out.append({
                "t": key, "offered": sec.offered, "accepted": sec.accepted, "errors": sec.errors, "commits": sec.commits,
                "p50_ms": round(percentile(lat, 50) * 1000, 2) if lat else None,
                "p99_ms": round(percentile(lat, 99) * 1000, 2) if lat else None,
                "max_ms": round(lat[-1] * 1000, 2) if lat else None,
            })  # fmt: skip
        return out
