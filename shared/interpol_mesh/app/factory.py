"""The one app factory: settings and a role in, a FastAPI app out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from interpol_mesh import __version__
from interpol_mesh.app import directory_routes, health, keys_routes, metrics_routes
from interpol_mesh.app.accept_stage import AcceptStage
from interpol_mesh.app.console import mount_console
from interpol_mesh.app.exchange_routes import BODY_LIMITS
from interpol_mesh.app.limits import RequestLimits
from interpol_mesh.app.refusal_docs import document_refusals
from interpol_mesh.clock import Clock
from interpol_mesh.directory import Directory
from interpol_mesh.messaging import OfficeContext, OfficeRole, start_office, stop_office
from interpol_mesh.settings import OfficeSettings


def create_app(
    settings: OfficeSettings,
    role: OfficeRole,
    *,
    clock: Clock | None = None,
    directory: Directory | None = None,
    ctx: OfficeContext | None = None,
) -> FastAPI:
    """Build one office's app; pass `ctx` when the caller already started the office."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = ctx or await start_office(settings, role, clock=clock, directory=directory)
        app.state.ctx = running
        try:
            yield
        finally:
            await stop_office(running)

    app = FastAPI(
        title=f"interpol-mesh {settings.office_id}",
        version=__version__,
        description=f"{role.description}\n\nOffice `{settings.office_id}` of the interpol-mesh network.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.add_middleware(AcceptStage)  # inside the limits: a request refused for load was never accepted
    app.add_middleware(
        RequestLimits,
        body_limits=BODY_LIMITS,
        max_requests=settings.max_concurrent_requests,
        max_body_bytes=settings.max_inflight_body_bytes,
        body_deadline_s=settings.request_body_deadline_s,
    )
    mount_console(app)
    app.include_router(health.router)
    app.include_router(metrics_routes.router)
    app.include_router(directory_routes.router)
    app.include_router(keys_routes.router)
    for router in role.routers:
        app.include_router(router)
    document_refusals(app, BODY_LIMITS)
    return app
