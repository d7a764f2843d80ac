"""Steady traffic for the fault tests, from the project's load generator, counted at the recipients.

The load generator of `interpol-mesh load` (`interpol_offices.loadtest`) is reused unchanged: its
`Generator` needs only office ports, the participating NCBs and an HTTP pool carrying each office's
staff token, so it drives the supercluster's office processes as they are (open loop, Poisson
arrivals per NCB, messages and diffusions to NCBs of the same and of other regions). Loss and
duplicates come from `loadtest.accounting`, which reads the recipients' own databases: a delivery
the sender accepted (HTTP 202) that is not in the recipient's inbox is lost; a second inbox row or a
`replay` in the recipient's quarantine is a duplicate; a committed delivery without its `delivered`
receipt back at the sender is counted too.

Timing figures come from the recipients' `inbox.received_at` (when the consumer fetched the batch it
then committed), all processes sharing this machine's clock, over the deliveries to the recipients
the fault concerns (`focus`: e.g. the region whose stream leader was killed; the other regions keep
delivering, so a mesh-wide gap would hide the stall):

- stall: the longest gap between two consecutive deliveries that ends after the fault began and
  starts before the load ended (the same figure before the fault is printed beside it);
- recovery: from the fault until the first request after which three seconds of requests are all
  delivered within the normal latency (twice the p99 of the deliveries done before the fault, at
  least one second);
- backlog cleared: from the fault until the last delivery of what was sent up to recovery;
- drain: from the last request until the last delivery;
- JetStream redeliveries: deliveries by the consumers beyond one per row the recipients stored,
  which must all have been absorbed without a second row.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from interpol_mesh.bus import subjects
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.storage import make_engine, tables
from interpol_mesh.testing.plugin import report_figures
from interpol_mesh.testing.processes import OfficeProcess
from interpol_mesh.testing.regions import RegionalMesh
from interpol_offices.loadtest import accounting, traffic
from interpol_offices.loadtest.arrivals import Arrivals
from interpol_offices.loadtest.generator import Generator
from interpol_offices.loadtest.httpclient import HttpPool
from interpol_offices.loadtest.meshrun import MeshView
from interpol_offices.loadtest.tracker import Tracker

# Two NCBs in every region: senders and recipients in the same and in the other regions.
NCBS = ("ncb.ar", "ncb.br", "ncb.fr", "ncb.de", "ncb.jp", "ncb.au")
# Operations whose deliveries the recipients' inboxes prove (acknowledgements and hits need state
# the generator builds over a long run; notice requests all go to the GS, which is not started).
WEIGHTS = {"message": 0.85, "diffusion": 0.15}
TIMELINE_STEP_S = 2.0
API_SAMPLE = 30
RECOVERED_S = 3.0


async def start_offices(mesh: RegionalMesh, office_ids: tuple[str, ...] = NCBS) -> dict[str, OfficeProcess]:
    """Start the offices, then warm them up (see `warm_up`)."""
    offices = {o: mesh.spawn(o) for o in office_ids}
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in offices.values()))
    await warm_up(mesh, offices)
    return offices


async def warm_up(mesh: RegionalMesh, offices: dict[str, OfficeProcess], timeout: float = 60.0) -> None:
    """Each office sends one message to all the others; wait until every one is held.

    A fresh office's first seconds (database pools, bus connections, first fetches, imports done
    on first use) are slower than its steady state; without this they would be taken for the
    "normal" latency that recovery is measured against.
    """
    ids = list(offices)
    sent: dict[str, set[str]] = {o: set() for o in ids}
    for sender, proc in offices.items():
        others = [o for o in ids if o != sender]
        async with httpx.AsyncClient(base_url=proc.url, headers=proc.staff_headers(), timeout=20) as client:
            answer = await client.post(
                "/v1/messages", json={"recipients": others, "body": {"title": "warm-up", "text": "warm-up"}}
            )
        assert answer.status_code == 202, answer.text
        for o in others:
            sent[o].add(answer.json()["message_id"])
    recipients = Recipients(mesh, ids)
    try:

        async def all_held() -> bool:
            counts = [await recipients.held(o, mids) for o, mids in sent.items()]
            return counts == [len(m) for m in sent.values()]

        await poll_until(all_held, timeout=timeout, what="the warm-up messages", interval=0.2)
    finally:
        await recipients.dispose()


async def poll_until(
    predicate: Callable[[], Awaitable[bool]], *, timeout: float, what: str, interval: float = 0.5
) -> float:
    """Like `wait_until`, checked less often: each check reads six databases the mesh is writing to.

    Returns the seconds it took; raises AssertionError at the deadline.
    """
    start = time.monotonic()
    while not await predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)
    return time.monotonic() - start


@dataclass
class SteadyLoad:
    """The load generator at a fixed total rate for a fixed time, started in the background."""

    mesh: RegionalMesh
    offices: dict[str, OfficeProcess]
    rate: float
    duration_s: float
    seed: int = 9
    marks: dict[str, float] = field(default_factory=dict)
    t0: float = 0.0
    ended_at: float = 0.0

    def start(self) -> None:
        directory = self.mesh.directory
        ids = list(self.offices)
        self.t0 = time.time()
        self.tracker = Tracker(self.t0, set(ids))
        self.http = HttpPool(per_port=16, timeout=20.0)
        self.http.authorization = {p.port: p.staff_headers()["Authorization"] for p in self.offices.values()}
        self.generator = Generator(
            ports={o: p.port for o, p in self.offices.items()},
            members=traffic.Members.of(directory, ids),
            tracker=self.tracker,
            http=self.http,
            weights=WEIGHTS,
            seed=self.seed,
        )
        arrivals = Arrivals([directory.get(o) for o in ids], self.rate, self.duration_s, None, self.seed)
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self.generator.run(arrivals, self._stop))

    async def at(self, offset_s: float) -> None:
        """Until `offset_s` into the run: the fault schedule is paced like the arrivals."""
        await asyncio.sleep(max(0.0, self.t0 + offset_s - time.time()))

    def mark(self, label: str) -> float:
        self.marks[label] = time.time()
        return self.marks[label]

    async def finish(self) -> None:
        await asyncio.wait_for(self._task, self.duration_s + 90)
        self.ended_at = time.time()
        await self.http.close()

    async def abort(self) -> None:
        if hasattr(self, "_task") and not self._task.done():
            self._stop.set()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if hasattr(self, "http"):
            await self.http.close()

    def expected(self) -> dict[str, set[str]]:
        """recipient -> message ids the senders accepted for it."""
        out: dict[str, set[str]] = {}
        for mid, msg in self.tracker.messages.items():
            for r in msg.recipients:
                out.setdefault(r, set()).add(mid)
        return out


@dataclass
class Figures:
    messages: int
    deliveries: int
    lost: int
    duplicated: int
    receipts_missing: int
    receipts_duplicated: int
    api_checked: int
    api_wrong: list[str]
    rejected: dict[str, int]
    http_errors: dict[str, int]
    stall_s: float
    baseline_gap_s: float
    recovery_s: float
    cleared_s: float
    latency_threshold_s: float
    drain_s: float
    settle_s: float
    p50_s: float
    p99_s: float
    max_s: float
    redelivered: int
    timeline: str
    requests: str
    focus: str
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)

    def report(self, name: str, load: SteadyLoad) -> str:
        accepted_rate = self.messages / load.duration_s
        lines = [
            f"FAULT {name}",
            f"  load: offered {load.rate:.0f} req/s for {load.duration_s:.0f}s, accepted {self.messages} messages"
            f" ({accepted_rate:.1f}/s), {self.deliveries} deliveries to {len(load.offices)} NCBs in 3 regions",
            f"  lost {self.lost}, duplicated {self.duplicated}, delivered receipts missing {self.receipts_missing},"
            f" receipts duplicated {self.receipts_duplicated}; GET /v1/sent/{{id}} of {self.api_checked} messages:"
            f" {len(self.api_wrong)} wrong,"
            f" refused {self.rejected or 0}, JetStream redeliveries {self.redelivered}",
            f"  at {self.focus}: stall {self.stall_s:.2f}s (longest gap before the fault {self.baseline_gap_s:.2f}s),"
            f" recovery {self.recovery_s:.2f}s (until latency < {self.latency_threshold_s:.1f}s),"
            f" backlog cleared {self.cleared_s:.2f}s after the fault,"
            f" drain after the last request {self.drain_s:.2f}s",
            f"  at {self.focus}: request-to-fetch latency p50 {self.p50_s * 1000:.0f} ms,"
            f" p99 {self.p99_s * 1000:.0f} ms, max {self.max_s:.2f}s",
            f"  HTTP errors (requests not accepted, not counted as sent) {self.http_errors or 0};"
            f" settled {self.settle_s:.1f}s after the load",
            *(
                f"  phase '{k}': stall {v['stall_s']:.2f}s, recovery {v['recovery_s']:.2f}s,"
                f" backlog cleared {v['cleared_s']:.2f}s after it began"
                for k, v in self.phases.items()
            ),
            f"  at {self.focus}, by request time (start: deliveries/p50 s/max s): {self.timeline}",
            f"  requests (start: offered/accepted/refused): {self.requests}",
            "  marks: " + ", ".join(f"{k} at {v - load.t0:.1f}s" for k, v in load.marks.items()),
        ]
        text = "\n".join(lines)
        report_figures("\n" + text, flush=True)
        return text


class Recipients:
    """One engine per office, kept for the test (the counts are read many times while settling)."""

    def __init__(self, mesh: RegionalMesh, office_ids: list[str]) -> None:
        self.engines: dict[str, AsyncEngine] = {o: make_engine(mesh.settings(o)) for o in office_ids}

    async def held(self, office_id: str, ids: set[str]) -> int:
        inbox = tables.inbox
        async with self.engines[office_id].connect() as conn:
            q = sa.select(sa.func.count()).select_from(inbox).where(inbox.c.message_id.in_(sorted(ids)))
            return int((await conn.execute(q)).scalar_one())

    async def delivered_receipts(self, office_id: str, ids: set[str]) -> int:
        d = tables.delivery
        async with self.engines[office_id].connect() as conn:
            q = (
                sa.select(sa.func.count())
                .select_from(d)
                .where(d.c.message_id.in_(sorted(ids)), d.c.delivered_at.is_not(None))
            )
            return int((await conn.execute(q)).scalar_one())

    async def dispose(self) -> None:
        await asyncio.gather(*(e.dispose() for e in self.engines.values()))


async def _redelivered(mesh: RegionalMesh, rows: dict[str, accounting.OfficeRows]) -> int:
    """JetStream deliveries beyond one per row the recipient stored (inbox or quarantine).

    The streams keep a message only while a consumer has not acked it (interest retention), so
    redeliveries are read from each consumer's delivery sequence, which counts every delivery.
    """
    admin = await mesh.connect_as(ADMIN_USER, "emea")
    try:
        js = admin.jetstream()
        total = 0
        for o, office_rows in rows.items():
            info = await js.consumer_info(mesh.plan.inbox_stream(o), subjects.consumer_name(o))
            delivered = int(info.delivered.consumer_seq or 0) if info.delivered else 0
            total += max(0, delivered - len(office_rows.inbox) - len(office_rows.quarantine))
        return total
    finally:
        await admin.close()


Phase = tuple[str, frozenset[str] | None]
"""A mark that begins a window (up to the next phase, the last up to the end of the load) and the
recipients whose deliveries it concerns (None: all)."""


async def settle(
    load: SteadyLoad,
    fault: str,
    *,
    focus: frozenset[str] | None = None,
    phases: tuple[Phase, ...] = (),
    timeout: float = 120.0,
) -> Figures:
    """Wait (with a deadline) until every accepted delivery is held and receipted, then count.

    `fault` names the mark where the fault began; stall and recovery are measured on the
    deliveries to `focus` (the recipients the fault concerns, e.g. the region whose stream leader
    was killed; None: all), since the other regions keep delivering. Counting happens even at
    the deadline, so a failing test still prints what was lost.
    """
    ids = list(load.offices)
    recipients = Recipients(load.mesh, ids)
    expected = load.expected()
    sent_by: dict[str, set[str]] = {}
    for mid, msg in load.tracker.messages.items():
        sent_by.setdefault(msg.sender, set()).add(mid)
    want_receipts = {s: sum(len(load.tracker.messages[m].recipients) for m in mids) for s, mids in sent_by.items()}

    async def all_held_and_receipted() -> bool:
        try:
            for r, mids in expected.items():
                if await recipients.held(r, mids) < len(mids):
                    return False
            for s, mids in sent_by.items():
                if await recipients.delivered_receipts(s, mids) < want_receipts[s]:
                    return False
        except (OSError, sa.exc.DBAPIError):
            return False  # the database is still coming back
        return True

    settle_s = float("nan")
    try:
        settle_s = await poll_until(all_held_and_receipted, timeout=timeout, what="every delivery and its receipt")
    except AssertionError as exc:
        report_figures(f"\n{fault}: {exc}", flush=True)
    finally:
        await recipients.dispose()
    settings = load.mesh.settings(ids[0])
    view = MeshView(offices=[load.mesh.directory.get(o) for o in ids], ports={}, settings=settings, trace_dir=None)
    rows = await accounting.read_all(view, load.t0)
    result = accounting.account(load.tracker, rows, view)
    deliveries = _deliveries(load, rows)
    starts = [load.marks[label] for label, _ in phases]
    ends = [*starts[1:], load.ended_at][: len(starts)]
    fault_at = load.marks[fault]
    until = min([a for a in starts if a > fault_at], default=load.ended_at)
    first = min([fault_at, *starts])
    timing = _timing(load, [d for d in deliveries if focus is None or d[0] in focus], fault_at, until, first)
    phase_figures = {}
    for (label, who), a, b in zip(phases, starts, ends, strict=True):
        at = _timing(load, [d for d in deliveries if who is None or d[0] in who], a, b, first)
        phase_figures[label + (f" at {', '.join(sorted(who))}" if who else "")] = at
    return Figures(
        messages=len(load.tracker.messages),
        deliveries=int(result["deliveries"]),
        lost=int(result["lost"]),
        duplicated=int(result["duplicates"]),
        receipts_missing=int(result["delivered_receipts_missing"]),
        receipts_duplicated=_receipts_duplicated(load, rows),
        api_checked=min(API_SAMPLE, len(load.tracker.messages)),
        api_wrong=await _check_sent_api(load),
        rejected=dict(result["rejected_by_reason"]),
        http_errors=dict(load.tracker.errors),
        settle_s=settle_s,
        redelivered=await _redelivered(load.mesh, rows),
        phases=phase_figures,
        focus=", ".join(sorted(focus)) if focus else "all recipients",
        requests=_requests(load),
        **timing,
    )


def _requests(load: SteadyLoad) -> str:
    """Offered, accepted and refused requests per TIMELINE_STEP_S, by the time each was sent."""
    buckets: dict[int, list[int]] = {}
    for row in load.tracker.series.rows():
        b = buckets.setdefault(int(int(row["t"] or 0) // TIMELINE_STEP_S), [0, 0, 0])
        for i, key in enumerate(("offered", "accepted", "errors")):
            b[i] += int(row[key] or 0)
    return " ".join(f"{k * TIMELINE_STEP_S:.0f}s:{o}/{a}/{e}" for k, (o, a, e) in sorted(buckets.items()))


def _receipts_duplicated(load: SteadyLoad, rows: dict[str, accounting.OfficeRows]) -> int:
    """Receipts beyond one per (message, recipient) in the senders' inboxes (the load sends no
    acknowledgements, so each delivery earns exactly one `delivered` receipt)."""
    extra = 0
    for office, office_rows in rows.items():
        seen = collections.Counter(
            (r.sender, r.correlation_id)
            for r in office_rows.inbox
            if r.kind == "receipt" and (msg := load.tracker.messages.get(r.correlation_id)) and msg.sender == office
        )
        extra += sum(n - 1 for n in seen.values() if n > 1)
    return extra


async def _check_sent_api(load: SteadyLoad) -> list[str]:
    """A sample of sent messages through the senders' own API: each recipient once, delivered."""
    rng = random.Random(load.seed)
    sample = rng.sample(sorted(load.tracker.messages), min(API_SAMPLE, len(load.tracker.messages)))
    wrong = []
    clients = {
        o: httpx.AsyncClient(base_url=p.url, headers=p.staff_headers(), timeout=20) for o, p in load.offices.items()
    }
    try:
        for mid in sample:
            msg = load.tracker.messages[mid]
            answer = await clients[msg.sender].get(f"/v1/sent/{mid}")
            rows = answer.json().get("recipients", []) if answer.status_code == 200 else []
            listed = sorted(r["recipient"] for r in rows)
            if listed != sorted(msg.recipients) or not all(r["delivered_at"] for r in rows):
                wrong.append(f"{mid} at {msg.sender}: HTTP {answer.status_code} {rows}")
    finally:
        for c in clients.values():
            await c.aclose()
    return wrong


def _longest_gap(commits: list[float], start: float, end: float) -> float:
    """The longest time without a delivery that ends after `start` and begins before `end`."""
    return max((b - a for a, b in itertools.pairwise(commits) if b >= start and a < end), default=0.0)


def _deliveries(load: SteadyLoad, rows: dict[str, accounting.OfficeRows]) -> list[tuple[str, float, float]]:
    """(recipient, request sent, fetched by the recipient) of every tracked delivery, by request time."""
    out = []
    for recipient, office_rows in rows.items():
        for r in office_rows.inbox:
            msg = load.tracker.messages.get(r.message_id)
            if msg is None or r.kind == "receipt":
                continue
            at = (r.received_at if r.received_at.tzinfo else r.received_at.replace(tzinfo=UTC)).timestamp()
            out.append((recipient, msg.t_req, at))
    return sorted(out, key=lambda d: d[1])


def _timing(
    load: SteadyLoad, deliveries: list[tuple[str, float, float]], fault_at: float, until: float, normal_until: float
) -> dict[str, Any]:
    """Stall, recovery and backlog of a fault that began at `fault_at`; what was sent from `until`
    on belongs to the next fault. Normal latency is that of deliveries done before `normal_until`
    (the first fault of the run)."""
    commits = sorted(at for _, _, at in deliveries)
    latency = [(t, at - t) for _, t, at in deliveries]
    gaps_before = [b - a for a, b in itertools.pairwise(commits) if b < normal_until]
    # Normal latency: deliveries done before the fault (the generator's first two seconds left out).
    before = sorted(lat for t, lat in latency if load.t0 + 2 <= t and t + lat < normal_until)
    p99_before = before[int(0.99 * (len(before) - 1))] if before else 0.0
    threshold = max(1.0, 2 * p99_before)
    # Recovered: from the first request after which RECOVERED_S of requests all went through
    # within the normal latency (one slow delivery on this shared machine does not undo it).
    recovery = max(0.0, until - fault_at)
    after = [(t, lat) for t, lat in latency if fault_at <= t < until]
    bad = [t for t, lat in after if lat > threshold]
    for t, _ in after:
        if not any(t <= b < t + RECOVERED_S for b in bad):
            recovery = t - fault_at
            break
    # Everything sent from just before the fault until recovery: when the last of it arrived.
    cleared = max(
        (t + lat - fault_at for t, lat in latency if fault_at - threshold <= t <= fault_at + recovery), default=0.0
    )
    lats = sorted(lat for _, lat in latency)
    buckets: dict[int, list[float]] = {}
    for t, lat in latency:
        buckets.setdefault(int((t - load.t0) // TIMELINE_STEP_S), []).append(lat)
    timeline = " ".join(
        f"{k * TIMELINE_STEP_S:.0f}s:{len(v)}/{statistics.median(v):.1f}/{max(v):.1f}"
        for k, v in sorted(buckets.items())
    )
    return {
        "stall_s": _longest_gap(commits, fault_at, until),
        "latency_threshold_s": threshold,
        "baseline_gap_s": max(gaps_before, default=0.0),
        "recovery_s": max(0.0, recovery),
        "cleared_s": max(0.0, cleared),
        "drain_s": max(0.0, (commits[-1] if commits else load.ended_at) - load.ended_at),
        "p50_s": statistics.median(lats) if lats else 0.0,
        "p99_s": lats[int(0.99 * (len(lats) - 1))] if lats else 0.0,
        "max_s": lats[-1] if lats else 0.0,
        "timeline": timeline,
    }
