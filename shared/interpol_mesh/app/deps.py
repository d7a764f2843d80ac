"""Dependencies as Annotated aliases that read the lifespan state, never module globals."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from interpol_mesh.messaging import OfficeContext


def get_ctx(request: Request) -> OfficeContext:
    ctx: OfficeContext = request.app.state.ctx
    return ctx


CtxDep = Annotated[OfficeContext, Depends(get_ctx)]
