"""Publish committed outbox rows to JetStream and mark them published once the server acked."""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from interpol_mesh.clock import Clock
from interpol_mesh.storage import tables

log = logging.getLogger(__name__)

BATCH = 500
# Every commit in this process wakes the relay; the poll only backs that up (and retries after a
# bus outage), so it can be slow: 209 idle offices polling each second cost a third of a core.
POLL_S = 5.0
RETRY_S = 1.0


class OutboxRelay:
    def __init__(self, engine: AsyncEngine, js: JetStreamContext, clock: Clock) -> None:
        self._engine = engine
        self._js = js
        self._clock = clock
        self._wake = asyncio.Event()
        self._stopping = False
        self.published = 0
        self.last_error: str | None = None

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                sent = await self.publish_pending()
                self.last_error = None
            except Exception as exc:  # bus or database away: keep the rows, retry shortly
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("outbox relay paused", extra={"error": self.last_error})
                sent = 0
                await asyncio.sleep(RETRY_S)
            if sent < BATCH and not self._stopping:
                # Nothing more committed: wait for a wake-up from a commit, or poll for rows
                # committed by a previous run of this office (crash recovery).
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=POLL_S)
                except TimeoutError:
                    pass
                self._wake.clear()

    async def publish_pending(self) -> int:
        o = tables.outbox
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(o.c.seq, o.c.subject, o.c.dedupe_id, o.c.data)
                    .where(o.c.published_at.is_(None))
                    .order_by(o.c.seq)
                    .limit(BATCH)
                )
            ).all()
        if not rows:
            return 0
        results = await asyncio.gather(
            *(self._js.publish(r.subject, r.data, headers={"Nats-Msg-Id": r.dedupe_id}) for r in rows),
            return_exceptions=True,
        )
        done = [r.seq for r, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)]
        failed = [res for res in results if isinstance(res, BaseException)]
        if done:
            async with self._engine.begin() as conn:
                await conn.execute(o.update().where(o.c.seq.in_(done)).values(published_at=self._clock.now()))
            self.published += len(done)
        if failed:
            raise failed[0]
        return len(rows)
