"""The running office of an HTTP request, as an Annotated dependency (kept outside `app` so that
`auth` can use it without importing the app factory)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from interpol_mesh.messaging.context import OfficeContext


async def get_ctx(request: Request) -> OfficeContext:
    """Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per request."""
    ctx: OfficeContext = request.app.state.ctx
    return ctx


CtxDep = Annotated[OfficeContext, Depends(get_ctx)]
