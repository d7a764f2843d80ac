"""Liveness and readiness: /readyz says exactly which dependency is missing, and what is degraded.

Two levels, because a readiness probe that fails takes the office out of its Service:
- **503 `unavailable`** (`reasons`): the office cannot do its job until something outside it comes
  back or an operator acts: the database unusable, the inbox consumer not running, or the durable
  consumer missing on the server (only the admin may provision it), the key directory not loaded.
- **200 `degraded`** (`degraded`): the office works, accepts its officers' sends into the outbox and
  serves its inbox, but something recovers by itself meanwhile: the bus disconnected (every server
  of its region lost, nats-py reconnecting: the office's link is cut), the relay holding subjects
  nothing could reach (a region cut off, a leader election) or rows the server refused, with the
  outbox's pending count; the inbox's last fetch failed (e.g. a 503 during an election). Taking the
  office out of service for these (a failed readiness probe removes it from its Service) would
  only stop officers from sending what the outbox will deliver after the heal.
`bus` always tells which server the office is connected to and how often it reconnected.
"""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.storage import database_unavailable, tables

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


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


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz(ctx: CtxDep) -> Health:
    return Health(status="alive", office=ctx.office.id)


async def _database_ok(ctx: CtxDep) -> str | None:
    try:
        async with asyncio.timeout(2.0):
            async with ctx.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        # /readyz answers without a token: the driver's text (which can name the database user,
        # host and port) goes to the office's log only; the probe gets the exception's type.
        away = database_unavailable(ctx.engine.url.render_as_string(hide_password=False), exc)
        log.warning("not ready: %s", away)
        return f"cannot use database {away.url}: {type(exc).__name__}"
    return None


def bus_state(ctx: CtxDep) -> BusState:
    url = ctx.nc.connected_url
    since = ctx.bus_status.disconnected_since
    return BusState(
        connected=ctx.bus_status.connected and ctx.nc.is_connected,
        server=f"{url.hostname}:{url.port}" if url is not None else None,
        reconnects=ctx.bus_status.reconnects,
        disconnected_for_s=round(asyncio.get_running_loop().time() - since, 1) if since is not None else None,
    )


async def readiness_reasons(ctx: CtxDep) -> list[str]:
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


def degradations(ctx: CtxDep) -> list[str]:
    out = []
    if not ctx.bus_status.connected or not ctx.nc.is_connected:
        state = "reconnecting" if ctx.nc.is_reconnecting else "closed" if ctx.nc.is_closed else "down"
        out.append(f"bus disconnected from {ctx.settings.nats_url} ({state}; sends wait in the outbox)")
    if ctx.consumer is not None and ctx.consumer.fetch_error:
        out.append(f"inbox {ctx.consumer.fetch_error} (retrying)")
    if ctx.relay is not None:
        out += ctx.relay.degraded()
    return out


async def _outbox_pending(ctx: CtxDep) -> int | None:
    """Cheap: the pending rows through ix_outbox_pending, counted only up to PENDING_CAP."""
    o = tables.outbox
    pending = sa.select(o.c.seq).where(o.c.published_at.is_(None)).limit(PENDING_CAP).subquery()
    try:
        async with asyncio.timeout(2.0):
            async with ctx.engine.connect() as conn:
                return int((await conn.execute(sa.select(sa.func.count()).select_from(pending))).scalar_one())
    except Exception:  # the database check reports it
        return None


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Bus connected, database reachable, consumers running; what is degraded",
    responses={503: {"model": Readiness, "description": "Not ready; `reasons` lists what is missing"}},
)
async def readyz(ctx: CtxDep) -> Readiness | JSONResponse:
    reasons = await readiness_reasons(ctx)
    degraded = degradations(ctx)
    # Counted only when the relay waits and the database answered (else it would double the wait).
    count_pending = ctx.relay is not None and bool(ctx.relay.degraded()) and not ctx.relay.database_error
    count_pending = count_pending and not any(r.startswith("cannot use database") for r in reasons)
    body = Readiness(
        status="unavailable" if reasons else "degraded" if degraded else "ready",
        office=ctx.office.id,
        reasons=reasons,
        degraded=degraded,
        bus=bus_state(ctx),
        outbox_pending=await _outbox_pending(ctx) if count_pending else None,
    )
    if reasons:
        return JSONResponse(body.model_dump(), status_code=503)
    return body
