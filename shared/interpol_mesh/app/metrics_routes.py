"""`GET /metrics`: this office's Prometheus figures, for a monitor (or admin) token.

Protected like every other route: the figures show how much of what this office exchanges, which
is itself police information (docs/ARCHITECTURE.md, "Observability").
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.auth.deps import ADMIN, MONITOR, requires
from interpol_mesh.observability.metrics import CONTENT_TYPE

router = APIRouter(tags=["observability"], dependencies=[requires(MONITOR, ADMIN)])


@router.get(
    "/metrics",
    summary="This office's metrics, Prometheus text format (monitor role)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}, "description": "Prometheus text"}},
)
async def metrics(ctx: CtxDep) -> Response:
    """Needs a bearer token of this office with the `monitor` role (or `admin`):
    `interpol-mesh token issue --office <id> --subject prometheus --roles monitor`.

    Counters and histograms of this office only (one registry per office, prefix `interpol_mesh_`),
    and gauges sampled now (outbox, consumer, quarantine, audit head, bus, readiness); a sampler that
    fails is counted in `interpol_mesh_sample_failures_total`, never fails the scrape.
    """
    return Response(content=await ctx.metrics.render(), media_type=CONTENT_TYPE)
