"""Publish committed outbox rows to JetStream and mark them published once the server acked.

Two ways in, one way out:
- **hand-off**: a unit of work (`OfficeContext.transaction()`) passes the outbox rows it just
  committed to `handoff`, and the relay publishes them from memory. Re-reading freshly written
  rows from the database was the largest stage of the send path under load (p50 91 ms saturated).
- **sweep**: at start, after a publish error and every POLL_S, the relay reads what is still
  unpublished in the database: rows a crash left behind, rows whose publish failed. (Its own
  bookkeeping, marking rows published, is the relay's one write outside a unit of work: it
  records no fact, only how far publishing got.)

A row the server refuses while other rows go through is retried with a growing delay (up to
60 s) and does not hold back the rows after it, except a refusal because the recipient's subject
is full (back-pressure: retried every second); while the bus is away, everything is retried
together every second.

Nothing is published before its transaction committed, and a row stays "unpublished" in the
database until JetStream acked it, so a crash anywhere loses nothing. A row can reach the bus
twice (a sweep racing the hand-off of the same row); both copies carry the row's `Nats-Msg-Id`,
and JetStream drops the second inside its duplicate window.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from interpol_mesh import stage_trace
from interpol_mesh.clock import Clock
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


def _subject_full(exc: BaseException) -> bool:
    return getattr(exc, "err_code", None) == SUBJECT_FULL_ERR_CODE


@dataclass(frozen=True)
class OutboxRow:
    subject: str
    dedupe_id: str
    data: bytes


class OutboxRelay:
    def __init__(self, engine: AsyncEngine, js: JetStreamContext, clock: Clock) -> None:
        self._engine = engine
        self._js = js
        self._clock = clock
        self._fresh: deque[OutboxRow] = deque()
        self._wake = asyncio.Event()
        self._sweep_needed = True  # at start: whatever a previous run left
        self._backoff: dict[str, tuple[float, float]] = {}  # dedupe id -> (next try, current delay)
        self._stopping = False
        self.published = 0
        self.last_error: str | None = None

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

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        while not self._stopping:
            failed: list[tuple[OutboxRow, BaseException]] = []
            published_before = self.published
            try:
                if self._sweep_needed or loop.time() >= next_sweep:
                    self._sweep_needed = False
                    next_sweep = loop.time() + POLL_S
                    failed += await self.sweep()
                while self._fresh and not self._stopping:
                    failed += await self._publish([self._fresh.popleft() for _ in range(min(BATCH, len(self._fresh)))])
            except Exception as exc:  # the database away: rows stay in the outbox, the sweep finds them
                self._paused(f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(RETRY_S)
                continue
            if failed:
                # Only when other rows went through is the bus known to work: then these rows are the
                # problem and back off one by one. Otherwise (bus or JetStream away, or recovering)
                # everything is retried together shortly.
                bus_works = self.published > published_before
                self._failed(failed, loop.time() if bus_works else None)
                if not bus_works:
                    await asyncio.sleep(RETRY_S)
                    continue
                next_sweep = min(next_sweep, loop.time() + RETRY_S)
            elif not self._backoff:  # while rows are still being refused, last_error keeps saying so
                self.last_error = None
            if not self._fresh and not self._stopping:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, next_sweep - loop.time()))
                except TimeoutError:
                    pass
                self._wake.clear()

    def _paused(self, error: str) -> None:
        self.last_error = error
        self._sweep_needed = True
        log.warning("outbox relay paused", extra={"error": error})

    def _failed(self, failed: list[tuple[OutboxRow, BaseException]], now: float | None) -> None:
        """Record the failure; with `now`, put each failed row on its own growing backoff."""
        row, first = failed[0]
        self._paused(f"{len(failed)} row(s) not published, e.g. {row.subject}: {type(first).__name__}: {first}")
        if now is None:
            return
        for row, exc in failed:
            _, delay = self._backoff.get(row.dedupe_id, (0.0, RETRY_S / 2))
            delay = RETRY_S if _subject_full(exc) else min(delay * 2, ROW_BACKOFF_MAX_S)
            self._backoff[row.dedupe_id] = (now + delay, delay)

    async def sweep(self) -> list[tuple[OutboxRow, BaseException]]:
        """Publish what is still unpublished in the database, oldest first, a page at a time;
        return the rows that failed. Rows committed a moment ago (the hand-off has them) and rows
        waiting out their backoff are left alone."""
        o = tables.outbox
        now = asyncio.get_running_loop().time()
        after = 0
        failed: list[tuple[OutboxRow, BaseException]] = []
        while not self._stopping:
            async with self._engine.connect() as conn:
                rows = (
                    await conn.execute(
                        sa.select(o.c.seq, o.c.subject, o.c.dedupe_id, o.c.data)
                        .where(o.c.published_at.is_(None), o.c.seq > after)
                        .order_by(o.c.seq)
                        .limit(BATCH)
                    )
                ).all()
            if not rows:
                break
            after = rows[-1].seq
            queued = {r.dedupe_id for r in self._fresh}
            pending = [
                OutboxRow(r.subject, r.dedupe_id, r.data)
                for r in rows
                if r.dedupe_id not in queued and self._backoff.get(r.dedupe_id, (0.0, 0.0))[0] <= now
            ]
            failed += await self._publish(pending)
            if len(rows) < BATCH:
                break
        return failed

    async def _publish(self, rows: list[OutboxRow]) -> list[tuple[OutboxRow, BaseException]]:
        """Publish, mark what JetStream acked as published, and return what it did not ack."""
        if not rows:
            return []
        results = await asyncio.gather(
            *(
                stage_trace.published(
                    r.dedupe_id, self._js.publish(r.subject, r.data, headers={"Nats-Msg-Id": r.dedupe_id})
                )
                for r in rows
            ),
            return_exceptions=True,
        )
        done = [r.dedupe_id for r, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)]
        if done:
            o = tables.outbox
            async with writing(self._engine) as conn:
                await conn.execute(
                    o.update()
                    .where(o.c.dedupe_id.in_(done), o.c.published_at.is_(None))
                    .values(published_at=self._clock.now())
                )
            self.published += len(done)
            for dedupe_id in done:
                self._backoff.pop(dedupe_id, None)
        return [(r, res) for r, res in zip(rows, results, strict=True) if isinstance(res, BaseException)]
