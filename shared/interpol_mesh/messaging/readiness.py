"""How ready an office is, computed once for /readyz and the `office_ready` gauge alike.

The levels and what each reason means are described with the route (`app/health.py`).

Each check has a budget (DATABASE_CHECK_S, then PENDING_CHECK_S for the optional pending count)
that adds up to less than the metrics' SAMPLE_TIMEOUT_S: a hanging database makes readiness say
"unavailable" in time for the `office_ready` sampler to record it, instead of the sampler timing
out first and the gauge keeping its last value.
"""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.observability.metrics import SAMPLE_TIMEOUT_S
from interpol_mesh.storage import database_unavailable, tables

log = logging.getLogger("interpol_mesh.app.health")


class Health(BaseModel):
    status: str
    office: str
    reasons: list[str] = []


class BusState(BaseModel):
    connected: bool
    server: str | None = None  # host:port of the server in use (nc.connected_url), never credentials
    reconnects: int = 0
    disconnected_for_s: float | None = None


class Readiness(Health):
    degraded: list[str] = []
    bus: BusState | None = None
    outbox_pending: int | None = None  # unpublished rows, counted up to PENDING_CAP, when the relay waits


PENDING_CAP = 10_000
DATABASE_CHECK_S = 1.0
PENDING_CHECK_S = 0.5
assert DATABASE_CHECK_S + PENDING_CHECK_S < SAMPLE_TIMEOUT_S, "readiness must answer before its sampler times out"


async def _database_ok(ctx: OfficeContext) -> str | None:
    try:
        async with asyncio.timeout(DATABASE_CHECK_S):
            async with ctx.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        # /readyz answers without a token: the driver's text (which can name the database user,
        # host and port) goes to the office's log only; the probe gets the exception's type.
        away = database_unavailable(ctx.engine.url.render_as_string(hide_password=False), exc)
        log.warning("not ready: %s", away)
        return f"cannot use database {away.url}: {type(exc).__name__}"
    return None


def bus_state(ctx: OfficeContext) -> BusState:
    url = ctx.nc.connected_url
    since = ctx.bus_status.disconnected_since
    return BusState(
        connected=ctx.bus_status.connected and ctx.nc.is_connected,
        server=f"{url.hostname}:{url.port}" if url is not None else None,
        reconnects=ctx.bus_status.reconnects,
        disconnected_for_s=round(asyncio.get_running_loop().time() - since, 1) if since is not None else None,
    )


async def readiness_reasons(ctx: OfficeContext) -> list[str]:
    reasons = []
    db = await _database_ok(ctx)
    if db:
        reasons.append(db)
    if ctx.consumer is None or not ctx.consumer.running:
        reasons.append("inbox consumer not running")
    elif ctx.consumer.consumer_missing:
        reasons.append(f"inbox {ctx.consumer.consumer_missing} (the admin must provision it)")
    if not ctx.keyring.loaded:
        reasons.append("key directory not loaded")
    return reasons


def degradations(ctx: OfficeContext) -> list[str]:
    out = []
    if not ctx.bus_status.connected or not ctx.nc.is_connected:
        state = "reconnecting" if ctx.nc.is_reconnecting else "closed" if ctx.nc.is_closed else "down"
        out.append(f"bus disconnected from {ctx.settings.nats_url} ({state}; sends wait in the outbox)")
    if ctx.consumer is not None and ctx.consumer.fetch_error:
        out.append(f"inbox {ctx.consumer.fetch_error} (retrying)")
    if ctx.relay is not None:
        out += ctx.relay.degraded()
    return out


async def pending_rows(conn: AsyncConnection) -> int:
    """Cheap: the unpublished outbox rows through ix_outbox_pending, counted only up to PENDING_CAP
    (a lower bound beyond it). Shared by /readyz and the `outbox_pending_rows` sampler."""
    o = tables.outbox
    pending = sa.select(o.c.seq).where(o.c.published_at.is_(None)).limit(PENDING_CAP).subquery()
    return int((await conn.execute(sa.select(sa.func.count()).select_from(pending))).scalar_one())


async def _outbox_pending(ctx: OfficeContext) -> int | None:
    try:
        async with asyncio.timeout(PENDING_CHECK_S):
            async with ctx.engine.connect() as conn:
                return await pending_rows(conn)
    except Exception:  # the database check reports it
        return None


async def readiness(ctx: OfficeContext) -> Readiness:
    """The office's readiness as /readyz reports it (503 when `reasons` is not empty)."""
    reasons = await readiness_reasons(ctx)
    degraded = degradations(ctx)
    # Counted only when the relay waits and the database answered (else it would double the wait).
    count_pending = ctx.relay is not None and bool(ctx.relay.degraded()) and not ctx.relay.database_error
    count_pending = count_pending and not any(r.startswith("cannot use database") for r in reasons)
    return Readiness(
        status="unavailable" if reasons else "degraded" if degraded else "ready",
        office=ctx.office.id,
        reasons=reasons,
        degraded=degraded,
        bus=bus_state(ctx),
        outbox_pending=await _outbox_pending(ctx) if count_pending else None,
    )
