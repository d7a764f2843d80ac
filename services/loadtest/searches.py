"""Frontline searches in the load: the police databases' traffic, beside the messages it dwarfs.

By volume searches are the network's main job: 4 to 5.4 billion a year, 130-170/s on average and
several times that at peak (`shared/DOMAIN.md`), against some 30,000 messages a day. They are not a
share of `--rate` but a stream of their own (`--searches PER_S`, `--search-peak FACTOR` for the
middle fifth of the run, or the burst's window), one `POST /v1/searches` per arrival at a random
NCB, open loop. Before the run each of a few NCBs contributes stolen passports of its own country
(`--search-hit-rate` of the searches ask for one of them, so hits, their `record-hit` reports and
the CCC's cases are in the load); the rest ask for numbers nobody reported, as most checks do.

A search is answered in its HTTP request (online, or from the national copy with `auto` at an NCB
that keeps one), so its figures are its answers: searches answered, refused or unanswered, hits,
and the latency of the answer. Nothing is "lost" in a search: an unanswered one is an error.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from dataclasses import dataclass, field
from typing import Any

from interpol_mesh.directory import Office
from interpol_offices.loadtest.arrivals import wait_for_arrival
from interpol_offices.loadtest.httpclient import HttpError, HttpPool
from interpol_offices.loadtest.stats import summary_ms

CONTRIBUTORS = 5  # NCBs that report passports before the run
PER_CONTRIBUTOR = 20
READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SearchPlan:
    rate: float  # searches/s outside the peak
    peak_factor: float
    peak: tuple[float, float]  # seconds from the start of the run
    duration_s: float
    hit_rate: float

    def rate_at(self, t: float) -> float:
        return self.rate * (self.peak_factor if self.peak[0] <= t < self.peak[1] else 1.0)


@dataclass
class SearchLoad:
    ncbs: list[Office]
    ports: dict[str, int]
    http: HttpPool
    plan: SearchPlan
    seed: int = 1
    wanted: list[tuple[str, str]] = field(default_factory=list)  # (number, country) reported before the run
    latencies: list[float] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    offered: int = 0
    with_hits: int = 0
    modes: collections.Counter[str] = field(default_factory=collections.Counter)

    async def seed_records(self) -> None:
        """Contribute the passports the hits will be on, and wait until the GS answers with one."""
        rng = random.Random(self.seed)
        contributors = rng.sample(self.ncbs, min(CONTRIBUTORS, len(self.ncbs)))
        for office in contributors:
            for i in range(PER_CONTRIBUTOR):
                number = f"LT{rng.randrange(10**7):07d}"
                body = {"database": "sltd", "record_ref": f"load-{i}-{number}", "instructions": "seize",
                        "document": {"number": number, "issuing_country": office.country, "status": "stolen"}}  # fmt: skip
                status, answer = await self.http.request(self.ports[office.id], "POST", "/v1/records", body)
                if status != 202:
                    raise SystemExit(
                        f"interpol-mesh load: contributing a record at {office.id}: HTTP {status} {answer}"
                    )
                self.wanted.append((number, str(office.country)))
        number, country = self.wanted[-1]
        probe = {"database": "sltd", "document_number": number, "issuing_country": country, "place": "load test"}
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            status, answer = await self.http.request(self.ports[self.ncbs[0].id], "POST", "/v1/searches", probe)
            if status == 200 and answer["hits"]:
                return
            await asyncio.sleep(0.2)  # the records are on their way to the GS: polled with a deadline
        raise SystemExit(
            f"interpol-mesh load: the contributed records were not searchable within {READY_TIMEOUT_S:g} s"
        )

    async def run(self, t0: float, stop: asyncio.Event) -> None:
        rng = random.Random(self.seed + 1)
        peak_rate = self.plan.rate * max(1.0, self.plan.peak_factor)
        if peak_rate <= 0:
            return
        tasks: set[asyncio.Task[None]] = set()
        t = rng.expovariate(peak_rate)
        while t < self.plan.duration_s and not stop.is_set():
            if not await wait_for_arrival(t0 + t, stop):
                break
            if rng.random() * peak_rate < self.plan.rate_at(t):  # thinning: the rate may change over time
                self.offered += 1
                task = asyncio.create_task(self._search(rng))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            t += rng.expovariate(peak_rate)
        if tasks:
            await asyncio.wait(set(tasks), timeout=30)

    async def _search(self, rng: random.Random) -> None:
        office = rng.choice(self.ncbs)
        if self.wanted and rng.random() < self.plan.hit_rate:
            number, country = rng.choice(self.wanted)
        else:
            number, country = f"ZZ{rng.randrange(10**8):08d}", rng.choice(self.wanted)[1] if self.wanted else "FR"
        body = {"database": "sltd", "document_number": number, "issuing_country": country, "mode": "auto",
                "place": "load test, passport control"}  # fmt: skip
        t_req = time.time()
        try:
            status, answer = await self.http.request(self.ports[office.id], "POST", "/v1/searches", body)
        except HttpError as exc:
            self.errors[f"search: {exc.reason}"] += 1
            return
        if status != 200 or not isinstance(answer, dict):
            detail = str(answer.get("detail", ""))[:60] if isinstance(answer, dict) else ""
            self.errors[f"search: HTTP {status} {detail}".rstrip()] += 1
            return
        self.latencies.append(time.time() - t_req)
        self.modes[str(answer.get("mode"))] += 1
        self.with_hits += bool(answer.get("hits"))

    def report(self) -> dict[str, Any]:
        p = self.plan
        return {
            "rate": p.rate, "peak_factor": p.peak_factor, "peak_s": list(p.peak), "hit_rate": p.hit_rate,
            "offered": self.offered, "answered": len(self.latencies), "with_hits": self.with_hits,
            "modes": dict(self.modes), "errors": dict(self.errors), "latency_ms": summary_ms(self.latencies),
        }  # fmt: skip


def plan_of(args: Any, burst_window: tuple[float, float] | None) -> SearchPlan | None:
    if not args.searches:
        return None
    duration = float(args.duration)
    peak = burst_window or (duration * 0.4, duration * 0.6)
    return SearchPlan(args.searches, args.search_peak, peak, duration, args.search_hit_rate)


def table_lines(s: dict[str, Any] | None) -> list[str]:
    if not s:
        return []
    lat = s["latency_ms"]
    return [
        "",
        f"  searches: {s['rate']:g}/s, x{s['peak_factor']:g} at {s['peak_s'][0]:g}-{s['peak_s'][1]:g} s; offered "
        f"{s['offered']}, answered {s['answered']} ({s['with_hits']} with hits; {s['modes']}), "
        f"errors {sum(s['errors'].values())}",
        f"  {'  search answer':<22}"
        + "".join(f"{lat.get(k, '-')!s:>9}" for k in ("p50", "p95", "p99", "max", "count")),
    ] + [f"      {n:>7}  {k}" for k, n in sorted(s["errors"].items(), key=lambda kv: -kv[1])[:5]]
