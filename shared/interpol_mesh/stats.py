"""The one percentile of the mesh: nearest rank, as the SLA report, the load test and the benches quote it."""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], p: float) -> float:
    """Nearest-rank percentile of `values` (p in 0..100): the smallest value with at least p % at or below it.

    Nearest rank always returns an observed value (never an interpolation between two), so a p99 is a
    latency that some message really had. An empty input gives NaN; callers that report "no data"
    differently test for emptiness first.
    """
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
