"""The office's scrape-time gauges: states of its tables, of its JetStream consumer and of itself.

Registered by `start_office` on `ctx.metrics` (`OfficeMetrics.add_sampler`), each run before a
scrape under the registry's timeout: one that fails sets its gauges to NaN (office_ready to 0)
and is counted, so a database that is down does not also blind the operator. Each reads as little as
it can: one connection for the tables (a statement each), one `consumer_info` request, and
the readiness `/readyz` computes.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from interpol_mesh.audit.tables import audit_head_signatures
from interpol_mesh.bus import subjects
from interpol_mesh.clock import utc
from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.messaging.readiness import bus_state, pending_rows, readiness
from interpol_mesh.storage import tables

CONSUMER_INFO_TIMEOUT_S = 1.0
# Quarantine rows are counted up to this: beyond it the gauge reads the cap (a lower bound), and a
# scrape never counts a table that an attack can grow without limit.
QUARANTINE_CAP = 100_000
READY_VALUE = {"ready": 1.0, "degraded": 0.5, "unavailable": 0.0}


def _age_s(ctx: OfficeContext, since: datetime | None) -> float:
    return 0.0 if since is None else max(0.0, (ctx.clock.now() - utc(since)).total_seconds())


def register_samplers(ctx: OfficeContext) -> None:
    """Add the office's samplers to its registry (once, at start)."""
    m = ctx.metrics

    async def database() -> None:
        # One connection for the three tables: a scrape takes one of the pool's, not three.
        # Each query reads a bounded number of rows through an index, whatever the tables' sizes:
        # the pending count is capped (PENDING_CAP), the oldest pending row is the first in
        # ix_outbox_pending (published_at, seq; seq follows insertion), the quarantine count is
        # capped, the audit head is the last signature by primary key.
        o, q, h = tables.outbox, tables.quarantine, audit_head_signatures
        oldest = sa.select(o.c.created_at).where(o.c.published_at.is_(None)).order_by(o.c.seq).limit(1)
        held = sa.select(q.c.id).limit(QUARANTINE_CAP).subquery()
        head = sa.select(h.c.signed_at).order_by(h.c.id.desc()).limit(1)
        async with ctx.engine.connect() as conn:
            m.outbox_pending.set(await pending_rows(conn))
            m.outbox_oldest_age.set(_age_s(ctx, (await conn.execute(oldest)).scalar_one_or_none()))
            m.quarantine_rows.set(int((await conn.execute(sa.select(sa.func.count()).select_from(held))).scalar_one()))
            m.audit_head_age.set(_age_s(ctx, (await conn.execute(head)).scalar_one_or_none()))

    async def consumer() -> None:
        info = await ctx.js.consumer_info(
            ctx.streams.inbox_stream(ctx.office.id), subjects.consumer_name(ctx.office.id),
            timeout=CONSUMER_INFO_TIMEOUT_S,
        )  # fmt: skip
        m.consumer_pending.set(info.num_pending or 0)
        m.consumer_ack_pending.set(info.num_ack_pending or 0)
        m.consumer_redelivered.set(info.num_redelivered or 0)

    async def bus() -> None:
        state = bus_state(ctx)
        m.bus_connected.set(1 if state.connected else 0)
        m.bus_reconnects.set(state.reconnects)

    async def ready() -> None:
        m.ready.set(READY_VALUE.get((await readiness(ctx)).status, 0.0))

    # Each with the gauges it sets: a failed sampler leaves them NaN (unknown), office_ready 0.
    m.add_sampler("bus", bus, [m.bus_connected, m.bus_reconnects])
    m.add_sampler("database", database, [m.outbox_pending, m.outbox_oldest_age, m.quarantine_rows, m.audit_head_age])
    m.add_sampler("consumer", consumer, [m.consumer_pending, m.consumer_ack_pending, m.consumer_redelivered])
    m.add_sampler("ready", ready, [m.ready], on_failure=0.0)
