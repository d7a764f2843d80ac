"""Publish committed outbox rows to JetStream and mark them published once the server acked.

Two ways in, one way out:
- **hand-off**: `OfficeContext.transaction()` passes the outbox rows it just committed to
  `handoff`, and the relay publishes them from memory. Re-reading freshly written rows from the
  database was the largest stage of the send path under load (p50 91 ms saturated).
- **sweep**: at start, after a publish error and every POLL_S, the relay reads what is still
  unpublished in the database: rows a crash left behind, rows whose publish failed, rows written
  by a transaction that did not go through `OfficeContext.transaction()`.

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
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from interpol_mesh.clock import Clock
from interpol_mesh.storage import tables, writing

log = logging.getLogger(__name__)

BATCH = 500
# Commits hand their rows over directly; the sweep only backs that up, so it can be slow:
# 209 idle offices polling each second cost a third of a core.
POLL_S = 5.0
RETRY_S = 1.0


@dataclass(frozen=True)
class OutboxRow:
    subject: str
    dedupe_id: str
    data: bytes


_COMMITTING = "interpol_mesh.outbox.committing"


def written(conn: AsyncConnection, rows: Sequence[OutboxRow]) -> None:
    """Note outbox rows written in this transaction, for the hand-off once it commits."""
    conn.info.setdefault(_COMMITTING, []).extend(rows)


def take_written(conn: AsyncConnection) -> list[OutboxRow]:
    try:
        return conn.info.pop(_COMMITTING, [])  # type: ignore[no-any-return]
    except Exception:  # the connection is already invalid (cancelled mid-transaction)
        return []


class OutboxRelay:
    def __init__(self, engine: AsyncEngine, js: JetStreamContext, clock: Clock) -> None:
        self._engine = engine
        self._js = js
        self._clock = clock
        self._fresh: deque[OutboxRow] = deque()
        self._in_flight: set[str] = set()
        self._wake = asyncio.Event()
        self._sweep_needed = True  # at start: whatever a previous run left
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
            try:
                if self._sweep_needed or loop.time() >= next_sweep:
                    self._sweep_needed = False
                    next_sweep = loop.time() + POLL_S
                    while await self.sweep() and not self._stopping:
                        pass
                while self._fresh and not self._stopping:
                    await self._publish([self._fresh.popleft() for _ in range(min(BATCH, len(self._fresh)))])
                self.last_error = None
            except Exception as exc:  # bus or database away: the rows stay in the outbox; sweep them later
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("outbox relay paused", extra={"error": self.last_error})
                self._fresh.clear()
                self._sweep_needed = True
                await asyncio.sleep(RETRY_S)
                continue
            if not self._fresh and not self._stopping:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, next_sweep - loop.time()))
                except TimeoutError:
                    pass
                self._wake.clear()

    async def sweep(self) -> bool:
        """Publish up to BATCH rows still unpublished in the database.

        True when there may be more: a full batch was read and some of it was not already queued.
        """
        o = tables.outbox
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(o.c.subject, o.c.dedupe_id, o.c.data)
                    .where(o.c.published_at.is_(None))
                    .order_by(o.c.seq)
                    .limit(BATCH)
                )
            ).all()
        queued = self._in_flight | {r.dedupe_id for r in self._fresh}
        pending = [OutboxRow(r.subject, r.dedupe_id, r.data) for r in rows if r.dedupe_id not in queued]
        if pending:
            await self._publish(pending)
        return len(rows) == BATCH and bool(pending)

    # Kept for callers that want "publish everything pending now" (tests, maintenance).
    publish_pending = sweep

    async def _publish(self, rows: list[OutboxRow]) -> None:
        ids = [r.dedupe_id for r in rows]
        self._in_flight.update(ids)
        try:
            results = await asyncio.gather(
                *(self._js.publish(r.subject, r.data, headers={"Nats-Msg-Id": r.dedupe_id}) for r in rows),
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
        finally:
            self._in_flight.difference_update(ids)
        failed = [res for res in results if isinstance(res, BaseException)]
        if failed:
            raise failed[0]
