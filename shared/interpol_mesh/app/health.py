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

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.messaging.readiness import BusState, Health, Readiness, readiness

__all__ = ["BusState", "Health", "Readiness", "router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz(ctx: CtxDep) -> Health:
    return Health(status="alive", office=ctx.office.id)


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Bus connected, database reachable, consumers running; what is degraded",
    responses={503: {"model": Readiness, "description": "Not ready; `reasons` lists what is missing"}},
)
async def readyz(ctx: CtxDep) -> Readiness | JSONResponse:
    body = await readiness(ctx)
    if body.reasons:
        return JSONResponse(body.model_dump(), status_code=503)
    return body
