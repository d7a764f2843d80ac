"""GET /v1/directory: every office serves the member directory it runs on."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.auth.deps import authenticate
from interpol_mesh.directory import Desk, Office

router = APIRouter(prefix="/v1", tags=["directory"], dependencies=[Depends(authenticate)])


class DirectoryView(BaseModel):
    counts: dict[str, int]
    offices: list[Office]
    ccc_desks: list[Desk]


@router.get("/directory", response_model=DirectoryView, summary="The member directory")
async def get_directory(ctx: CtxDep) -> DirectoryView:
    """All offices of the mesh (196 NCBs, 7 regional bureaus, 4 liaison offices, GS, CCC) and CCC desks."""
    offices = sorted(ctx.directory.offices.values(), key=lambda o: (o.kind, o.id))
    counts: dict[str, int] = {}
    for office in offices:
        counts[office.kind] = counts.get(office.kind, 0) + 1
    return DirectoryView(counts=counts, offices=offices, ccc_desks=list(ctx.directory.desks))
