"""The office's scrape-time gauges: states of its tables, of its JetStream consumer and of itself.

Registered by `start_office` on `ctx.metrics` (`OfficeMetrics.add_sampler`), each run before a
scrape under the registry's timeout: one that fails leaves its gauges as they were and is
counted, so a database that is down does not also blind the operator. Each reads as little as
it can: one connection for the tables (a statement each), one `consumer_info` request, and
the readiness `/readyz` computes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import sqlalchemy as sa

from interpol_mesh.audit.tables import audit_head_signatures
from interpol_mesh.bus import subjects
from interpol_mesh.clock import utc
from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.messaging.readiness import readiness
from interpol_mesh.storage import tables

CONSUMER_INFO_TIMEOUT_S = 1.0
READY_VALUE = {"ready": 1.0, "degraded": 0.5, "unavailable": 0.0}


def _age_s(ctx: OfficeContext, since: datetime | None) -> float:
    return 0.0 if since is None else max(0.0, (ctx.clock.now() - utc(since)).total_seconds())


def register_samplers(ctx: OfficeContext) -> None:
    """Add the office's samplers to its registry (once, at start)."""
    m = ctx.metrics

    async def database() -> None:
        # One connection for the three tables: a scrape takes one of the pool's, not three.
        o, q, h = tables.outbox, tables.quarantine, audit_head_signatures
        pending = sa.select(sa.func.count(), sa.func.min(o.c.created_at)).where(o.c.published_at.is_(None))
        async with ctx.engine.connect() as conn:
            count, oldest = (await conn.execute(pending)).one()
            m.outbox_pending.set(int(count))
            m.outbox_oldest_age.set(_age_s(ctx, oldest))
            m.quarantine_rows.set(int((await conn.execute(sa.select(sa.func.count()).select_from(q))).scalar_one()))
            m.audit_head_age.set(_age_s(ctx, (await conn.execute(sa.select(sa.func.max(h.c.signed_at)))).scalar_one()))

    async def consumer() -> None:
        info = await ctx.js.consumer_info(
            ctx.streams.inbox_stream(ctx.office.id), subjects.consumer_name(ctx.office.id),
            timeout=CONSUMER_INFO_TIMEOUT_S,
        )  # fmt: skip
        m.consumer_pending.set(info.num_pending or 0)
        m.consumer_ack_pending.set(info.num_ack_pending or 0)
        m.consumer_redelivered.set(info.num_redelivered or 0)

    async def bus() -> None:
        m.bus_connected.set(1 if ctx.bus_status.connected and ctx.nc.is_connected else 0)
        m.bus_reconnects.set(ctx.bus_status.reconnects)

    async def ready() -> None:
        m.ready.set(READY_VALUE.get((await readiness(ctx)).status, 0.0))

    samplers: dict[str, Callable[[], Awaitable[None]]] = {
        "bus": bus, "database": database, "consumer": consumer, "ready": ready,
    }  # fmt: skip
    for name, sampler in samplers.items():
        m.add_sampler(name, sampler)
