"""When each NCB acts: one Poisson process per NCB, scaled to a total rate, with a regional burst.

Every NCB gets the same base rate, `total_rate / n` (the directory has no per-country volume).
During a burst ("one region x10 for a minute, as in a major event") the NCBs of that region act
`factor` times as often; `total_rate` is the rate outside the burst. Rates that change over time
are drawn exactly by thinning: each NCB draws candidates at its peak rate and keeps each with
probability rate(t) / peak.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

from interpol_mesh.directory import Office


@dataclass(frozen=True)
class Burst:
    region: str
    factor: float = 10.0
    start_s: float = 0.0
    duration_s: float = 60.0

    def active(self, t: float) -> bool:
        return self.start_s <= t < self.start_s + self.duration_s

    @classmethod
    def parse(cls, spec: str, duration_s: float) -> Burst:
        """`REGION[:FACTOR[:START_S[:DURATION_S]]]`; by default x10 for 60 s starting at a third of the run."""
        parts = spec.split(":")
        region = parts[0]
        factor = float(parts[1]) if len(parts) > 1 and parts[1] else 10.0
        length = float(parts[3]) if len(parts) > 3 and parts[3] else min(60.0, duration_s)
        start = float(parts[2]) if len(parts) > 2 and parts[2] else max(0.0, min(duration_s / 3, duration_s - length))
        return cls(region, factor, start, length)


class Arrivals:
    """Merged arrival times `(t, office)` of all NCBs, in time order, for `duration_s` seconds."""

    def __init__(
        self, ncbs: list[Office], total_rate: float, duration_s: float, burst: Burst | None, seed: int
    ) -> None:
        if not ncbs:
            raise ValueError("no NCB takes part")
        self.ncbs = ncbs
        self.base = total_rate / len(ncbs)
        self.duration_s = duration_s
        self.burst = burst
        self.rng = random.Random(seed)

    def rate_of(self, office: Office, t: float) -> float:
        if self.burst and office.region == self.burst.region and self.burst.active(t):
            return self.base * self.burst.factor
        return self.base

    def _peak(self, office: Office) -> float:
        if self.burst and office.region == self.burst.region:
            return self.base * max(1.0, self.burst.factor)
        return self.base

    def expected_total(self) -> float:
        n_burst = sum(1 for o in self.ncbs if self.burst and o.region == self.burst.region)
        extra = 0.0
        if self.burst:
            overlap = max(0.0, min(self.duration_s, self.burst.start_s + self.burst.duration_s) - self.burst.start_s)
            extra = n_burst * self.base * (self.burst.factor - 1) * overlap
        return self.base * len(self.ncbs) * self.duration_s + extra

    def __iter__(self) -> Iterator[tuple[float, Office]]:
        if self.base <= 0:
            return
        heap: list[tuple[float, int]] = []
        for i, office in enumerate(self.ncbs):
            heapq.heappush(heap, (self.rng.expovariate(self._peak(office)), i))
        while heap:
            t, i = heapq.heappop(heap)
            if t >= self.duration_s:
                continue
            office = self.ncbs[i]
            peak = self._peak(office)
            heapq.heappush(heap, (t + self.rng.expovariate(peak), i))
            if self.rng.random() * peak < self.rate_of(office, t):
                yield t, office


async def wait_for_arrival(at: float, stop: asyncio.Event) -> bool:
    """Sleep until wall-clock time `at` (an arrival's); False if `stop` was set first (open loop: never late-waits)."""
    delay = at - time.time()
    if delay > 0:
        try:
            await asyncio.wait_for(stop.wait(), delay)
            return False
        except TimeoutError:
            pass
    return True
