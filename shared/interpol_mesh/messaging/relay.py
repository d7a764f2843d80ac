"""Publish committed outbox rows to JetStream and mark them published once the server acked.

Two ways in, one way out:
- **hand-off**: a unit of work (`OfficeContext.transaction()`) passes the outbox rows it just
  committed to `handoff`, and the relay publishes them from memory. Re-reading freshly written
  rows from the database was the largest stage of the send path under load (p50 91 ms saturated).
- **sweep**: at start, after a publish error and every POLL_S, the relay reads what is still
  unpublished in the database: rows a crash left behind, rows whose publish failed. (Its own
  bookkeeping, marking rows published, is the relay's one write outside a unit of work: it
  records no fact, only how far publishing got.)

Two kinds of failure, told apart by the error:
- **unreachable** (no responders: no stream reachable for the subject, e.g. the recipient's region
  cut off or a stream leader being elected; a timeout; JetStream's 503; the connection away; the
  recipient's subject full, which is back-pressure): the whole subject is put on hold. Its rows stay
  in the outbox and are neither swept nor handed off; once every RETRY_S one of them, in turn, is
  published as a probe, off the main loop (a probe waiting out its timeout holds back no other
  subject). The first probe that is acked lifts the hold and the rest follow at once, so delivery
  resumes within about RETRY_S of the heal, at the cost of one request per held subject per
  RETRY_S, not one per row. The probes take turns (a row that can never go, such as one the
  server's permissions drop without an answer, cannot hold back the rows after it). "No
  responders" also means "no stream has this subject at all" (a misconfiguration): such a subject
  is probed at that same pace for as long as it lasts, shown on /readyz, and its rows are never
  dropped, since each is a message an office committed to send.
- **refused** (the server answered no), or unreachable while other rows of the same subject went
  through: that row is the problem; it is retried with a growing delay (up to 60 s) and does not
  hold back the rows after it.

Nothing is published before its transaction committed, and a row stays "unpublished" in the
database until JetStream acked it, so a crash anywhere loses nothing. A row can reach the bus
twice (a sweep racing the hand-off of the same row); both copies carry the row's `Nats-Msg-Id`,
and JetStream drops the second inside its duplicate window.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import nats.errors
import sqlalchemy as sa
from nats.js import JetStreamContext
from nats.js.errors import NoStreamResponseError, ServiceUnavailableError
from opentelemetry.trace import Span
from sqlalchemy.ext.asyncio import AsyncEngine

from interpol_mesh.clock import Clock
from interpol_mesh.observability import OfficeMetrics, Stages
from interpol_mesh.observability.labels import PublishFailure
from interpol_mesh.observability.stages import fault
from interpol_mesh.observability.tracing import headers_of, read_stored
from interpol_mesh.storage import tables, writing

log = logging.getLogger(__name__)

BATCH = 500
# Commits hand their rows over directly; the sweep only backs that up, so it can be slow:
# 209 idle offices polling each second cost a third of a core.
POLL_S = 5.0
RETRY_S = 1.0
# A row the server keeps refusing while the bus is up (a subject this office may not use) is
# retried less and less often, so it cannot hold back the rows committed after it.
ROW_BACKOFF_MAX_S = 60.0
# JetStream's "maximum messages per subject exceeded": the recipient is behind by the stream's
# per-subject cap (bus/streams.py). That is back-pressure, not a bad row: retry at a steady pace
# so delivery resumes within a second of the recipient catching up, not after a 60 s backoff.
SUBJECT_FULL_ERR_CODE = 10077
PROBE_PAGE = 50
# How long a publish waits for JetStream's ack. A request written to a server just before it died
# is never answered and nats-py does not fail it at the disconnect: this bounds how long the rows in
# flight then wait (the relay's loop with them) before their subject is held and probed on the new
# connection. A healthy server acks in milliseconds, a batch of BATCH well under a second; an ack
# that comes later is not lost: the row is published again, and JetStream drops the copy by its
# Nats-Msg-Id within the stream's duplicate window (5 min); after a longer outage the copy is stored
# and the recipient's inbox refuses it as a replay of a message id it already holds.
PUBLISH_TIMEOUT_S = 3.0


def _subject_full(exc: BaseException) -> bool:
    return getattr(exc, "err_code", None) == SUBJECT_FULL_ERR_CODE


@dataclass(frozen=True)
class OutboxRow:
    subject: str
    dedupe_id: str
    data: bytes
    kind: str | None = None  # None: a row written before the outbox had the column
    trace_context: str | None = None  # `observability.tracing.stored_context`, when tracing was on


_UNREACHABLE = (
    nats.errors.NoRespondersError,
    NoStreamResponseError,
    nats.errors.TimeoutError,
    TimeoutError,
    ServiceUnavailableError,
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.FlushTimeoutError,
)


def _unreachable(exc: BaseException) -> bool:
    """Nothing took the row: worth trying again soon, and for the whole subject at once."""
    return isinstance(exc, _UNREACHABLE) or _subject_full(exc)


def failure_reason(exc: BaseException) -> PublishFailure:
    """The `publish_failures_total` label of a failed publish (a closed set)."""
    if _subject_full(exc):
        return "full"
    if isinstance(exc, nats.errors.TimeoutError | TimeoutError):
        return "timeout"
    if _unreachable(exc):
        return "unreachable"
    if getattr(exc, "err_code", None) is not None or getattr(exc, "code", None) is not None:
        return "refused"
    return "other"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class Failure:
    row: OutboxRow
    exc: BaseException
    subject_reached: bool  # another row of the same subject went through: the row is the problem


@dataclass
class SubjectHold:
    """A subject nothing could be published to: its rows wait, one probe at a time."""

    error: str
    since: float
    next_probe: float
    cursor: int = 0  # outbox seq of the last probe: the next probe takes the row after it
    probes: int = 0


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        js: JetStreamContext,
        clock: Clock,
        metrics: OfficeMetrics,
        stages: Stages,
    ) -> None:
        self._engine = engine
        self._js = js
        self._clock = clock
        self._metrics = metrics
        self._stages = stages  # the office's (`ctx.stages`): one histogram and tracer per office
        self._fresh: deque[OutboxRow] = deque()
        self._wake = asyncio.Event()
        self._sweep_needed = True  # at start: whatever a previous run left
        self._backoff: dict[str, tuple[float, float]] = {}  # dedupe id -> (next try, current delay)
        self.holds: dict[str, SubjectHold] = {}  # subject -> why and until when it waits
        self._probes: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        self.published = 0
        self.last_error: str | None = None
        self.database_error: str | None = None

    def handoff(self, rows: Sequence[OutboxRow]) -> None:
        """Rows of a transaction that has committed: publish them now."""
        self._fresh.extend(rows)
        self._wake.set()

    def wake(self) -> None:
        """Something may be unpublished in the database: sweep soon."""
        self._sweep_needed = True
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def degraded(self) -> list[str]:
        """What holds publishing back, for /readyz; empty when everything goes through."""
        out = []
        if self.database_error:
            out.append(f"outbox relay paused: {self.database_error}")
        if self.holds:
            now = asyncio.get_running_loop().time()
            subject, hold = min(self.holds.items(), key=lambda item: item[1].since)
            out.append(
                f"outbox relay: {len(self.holds)} subject(s) unreachable, retried every {RETRY_S:g} s; "
                f"longest {now - hold.since:.0f} s: {subject}: {hold.error}"
            )
        if self._backoff:
            out.append(f"outbox relay: {len(self._backoff)} row(s) refused, retried with backoff: {self.last_error}")
        return out

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            for task in self._probes.values():
                task.cancel()
            self._probes.clear()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        while not self._stopping:
            failed: list[Failure] = []
            try:
                if self._sweep_needed or loop.time() >= next_sweep:
                    self._sweep_needed = False
                    next_sweep = loop.time() + POLL_S
                    failed += await self.sweep()
                while self._fresh and not self._stopping:
                    batch = [self._fresh.popleft() for _ in range(min(BATCH, len(self._fresh)))]
                    # A held subject's rows are in the database: its probe, then the sweep, takes them.
                    failed += await self._publish([r for r in batch if r.subject not in self.holds])
            except Exception as exc:  # the database away: rows stay in the outbox, the sweep finds them
                self.database_error = _describe(exc)
                self._paused(self.database_error)
                await asyncio.sleep(RETRY_S)
                continue
            self.database_error = None
            if failed:
                self._failed(failed, loop.time())
                next_sweep = min(next_sweep, loop.time() + RETRY_S)
            elif not self._backoff and not self.holds:  # while rows wait, last_error keeps saying why
                self.last_error = None
            self._start_probes(loop.time())
            if not self._fresh and not self._stopping:
                deadline = min([next_sweep, *(h.next_probe for s, h in self.holds.items() if s not in self._probes)])
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, deadline - loop.time()))
                except TimeoutError:
                    pass
                self._wake.clear()

    def _paused(self, error: str) -> None:
        self.last_error = error
        self._sweep_needed = True
        log.warning("outbox relay paused", extra={"error": error})

    def _failed(self, failed: list[Failure], now: float) -> None:
        """Hold the subjects nothing reached; put the other failed rows on their own growing backoff."""
        first = failed[0]
        self._paused(f"{len(failed)} row(s) not published, e.g. {first.row.subject}: {_describe(first.exc)}")
        for row, exc, subject_reached in ((f.row, f.exc, f.subject_reached) for f in failed):
            if row.subject in self.holds:
                continue
            if _unreachable(exc) and not subject_reached:
                self.holds[row.subject] = SubjectHold(_describe(exc), since=now, next_probe=now + RETRY_S)
                log.warning("subject unreachable; holding its rows", extra={"subject": row.subject})
                continue
            _, delay = self._backoff.get(row.dedupe_id, (0.0, RETRY_S / 2))
            delay = RETRY_S if _subject_full(exc) else min(delay * 2, ROW_BACKOFF_MAX_S)
            self._backoff[row.dedupe_id] = (now + delay, delay)

    def _start_probes(self, now: float) -> None:
        for subject, hold in self.holds.items():
            if hold.next_probe <= now and subject not in self._probes and not self._stopping:
                self._probes[subject] = asyncio.create_task(self._probe(subject, hold))

    async def _probe(self, subject: str, hold: SubjectHold) -> None:
        """Publish one row of a held subject, the next in turn; lift the hold if it goes through."""
        loop = asyncio.get_running_loop()
        try:
            row = await self._probe_row(subject, hold)
            if row is None:  # nothing left (published by an earlier copy): nothing to hold
                self._lift(subject)
                return
            failed = await self._publish([row])
            if not failed:
                self._lift(subject)
                return
            exc = failed[0].exc
            hold.error, hold.probes = _describe(exc), hold.probes + 1
            if not _unreachable(exc):  # the server answered: this row is bad, the subject may be fine
                self._failed(failed, loop.time())
        except Exception as exc:  # the database away: try again at the next probe
            hold.error = f"probe: {_describe(exc)}"
        finally:
            self._probes.pop(subject, None)
            hold.next_probe = loop.time() + RETRY_S
            self._wake.set()

    def _lift(self, subject: str) -> None:
        if self.holds.pop(subject, None) is not None:
            log.info("subject reachable again", extra={"subject": subject})
            self.wake()

    async def _probe_row(self, subject: str, hold: SubjectHold) -> OutboxRow | None:
        """The subject's next unpublished row after the last probe (from the start again at the
        end), skipping rows on their own backoff; None when there is none to probe."""
        o = tables.outbox
        now = asyncio.get_running_loop().time()
        for after in (hold.cursor, 0):
            async with self._engine.connect() as conn:
                rows = (
                    await conn.execute(
                        sa.select(o.c.seq, o.c.dedupe_id)  # not the data: envelopes can be large
                        .where(o.c.published_at.is_(None), o.c.subject == subject, o.c.seq > after)
                        .order_by(o.c.seq)
                        .limit(PROBE_PAGE)
                    )
                ).all()
                for r in rows:
                    if self._backoff.get(r.dedupe_id, (0.0, 0.0))[0] <= now:
                        hold.cursor = r.seq
                        full = (
                            await conn.execute(sa.select(o.c.data, o.c.kind, o.c.trace_context).where(o.c.seq == r.seq))
                        ).one()
                        return OutboxRow(subject, r.dedupe_id, full.data, full.kind, full.trace_context)
        return None  # the sweep takes whatever is left, on its own backoff

    async def sweep(self) -> list[Failure]:
        """Publish what is still unpublished in the database, oldest first, a page at a time;
        return the rows that failed. Rows committed a moment ago (the hand-off has them) and rows
        waiting out their backoff or on a held subject are left alone."""
        o = tables.outbox
        now = asyncio.get_running_loop().time()
        after = 0
        failed: list[Failure] = []
        while not self._stopping:
            held = list(self.holds)
            query = (
                sa.select(o.c.seq, o.c.subject, o.c.dedupe_id, o.c.data, o.c.kind, o.c.trace_context)
                .where(o.c.published_at.is_(None), o.c.seq > after)
                .order_by(o.c.seq)
                .limit(BATCH)
            )
            if held:  # their rows wait for the probe: not read at all, however many they are
                query = query.where(o.c.subject.not_in(held))
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
            if not rows:
                break
            after = rows[-1].seq
            queued = {r.dedupe_id for r in self._fresh}
            pending = [
                OutboxRow(r.subject, r.dedupe_id, r.data, r.kind, r.trace_context)
                for r in rows
                if r.dedupe_id not in queued
                and r.subject not in self.holds
                and self._backoff.get(r.dedupe_id, (0.0, 0.0))[0] <= now
            ]
            failed += await self._publish(pending)
            if len(rows) < BATCH:
                break
        return failed

    def _trace_headers(self, row: OutboxRow) -> tuple[dict[str, str], Span | None]:
        """The `publish` span of `row` and its W3C headers; none at all if building them fails
        (instrumentation never holds back a row: it goes without headers, logged once)."""
        try:
            parent, extra = read_stored(row.trace_context)
            message_id, _, rest = row.dedupe_id.partition(":")
            attributes = {"mesh.message_id": message_id, "mesh.recipient": rest.partition(":")[0],
                          "mesh.kind": row.kind or "unknown"}  # fmt: skip
            if "receipt_type" in extra:
                attributes["mesh.receipt_type"] = extra["receipt_type"]
            span = self._stages.begin("publish", parent, attributes)
            return (headers_of(span) if span is not None else {}), span
        except Exception:
            fault("publish trace headers")
            return {}, None

    async def _publish_one(self, row: OutboxRow) -> bool:
        """One row to JetStream, stage `publish` until its ack (the trace's span's context in the
        message headers, outside the signed bytes, for the recipient to join); True when the
        server stored it now, False when it dropped it as a duplicate of an earlier copy."""
        stages = self._stages
        headers = {"Nats-Msg-Id": row.dedupe_id}
        span = None
        if stages.tracing:
            trace_headers, span = self._trace_headers(row)
            headers.update(trace_headers)
        start = time.time()
        ack = await self._js.publish(row.subject, row.data, timeout=PUBLISH_TIMEOUT_S, headers=headers)
        stages.finish("publish", span, start, time.time())  # a failed publish leaves its span unended: not exported
        return not ack.duplicate

    async def _publish(self, rows: list[OutboxRow]) -> list[Failure]:
        """Publish, mark what JetStream acked as published, and return what it did not ack.

        `deliveries_published_total` counts a row once the UPDATE marking it published has
        committed, and not when JetStream acked it as a duplicate: a sweep that republishes a row
        whose marking failed (or a crash lost) does not count it twice.
        """
        if not rows:
            return []
        results = await asyncio.gather(*(self._publish_one(r) for r in rows), return_exceptions=True)
        try:
            for res in results:
                if isinstance(res, BaseException):
                    self._metrics.publish_failures.labels(failure_reason(res)).inc()
        except Exception:
            fault("publish_failures")
        acked = [(r, res) for r, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)]
        done = [r.dedupe_id for r, _ in acked]
        if done:
            o = tables.outbox
            async with writing(self._engine) as conn:
                await conn.execute(
                    o.update()
                    .where(o.c.dedupe_id.in_(done), o.c.published_at.is_(None))
                    .values(published_at=self._clock.now())
                )
            self.published += len(done)
            try:
                for r, stored in acked:
                    if stored:
                        self._metrics.deliveries_published.labels(r.kind or "unknown").inc()
            except Exception:
                fault("deliveries_published")
            for dedupe_id in done:
                self._backoff.pop(dedupe_id, None)
        reached = {r.subject for r, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)}
        for subject in reached & set(self.holds):
            self._lift(subject)
        return [
            Failure(r, res, r.subject in reached)
            for r, res in zip(rows, results, strict=True)
            if isinstance(res, BaseException)
        ]
