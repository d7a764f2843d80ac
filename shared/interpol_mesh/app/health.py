"""Liveness and readiness: /readyz says exactly which dependency is missing."""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.storage import database_unavailable

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    office: str
    reasons: list[str] = []


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


async def readiness_reasons(ctx: CtxDep) -> list[str]:
    reasons = []
    if not ctx.bus_status.connected or not ctx.nc.is_connected:
        reasons.append(f"bus disconnected from {ctx.settings.nats_url}")
    db = await _database_ok(ctx)
    if db:
        reasons.append(db)
    if ctx.consumer is None or not ctx.consumer.running:
        reasons.append("inbox consumer not running")
    if not ctx.keyring.loaded:
        reasons.append("key directory not loaded")
    return reasons


@router.get(
    "/readyz",
    response_model=Health,
    summary="Bus connected, database reachable, consumers running",
    responses={503: {"model": Health, "description": "Not ready; `reasons` lists what is missing"}},
)
async def readyz(ctx: CtxDep) -> Health | JSONResponse:
    reasons = await readiness_reasons(ctx)
    if reasons:
        body = Health(status="unavailable", office=ctx.office.id, reasons=reasons)
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ready", office=ctx.office.id)
