"""Read API for notices, the same at the GS (authoritative record) and at NCBs (their copies).

Any office may call it; what each caller gets is decided per notice by `access` (distribution,
status, role), so the route's role check is not the only gate.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.auth.deps import ANY_OFFICE, OFFICER, REVIEWER, PrincipalDep, requires
from interpol_mesh.messages import NoticeType
from interpol_mesh.notices import store
from interpol_mesh.notices.access import reader
from interpol_mesh.notices.status import NoticeStatus
from interpol_mesh.notices.views import NoticeDetail, NoticePage

router = APIRouter(prefix="/v1", tags=["notices"], dependencies=[requires(OFFICER, REVIEWER, *ANY_OFFICE)])


@router.get("/notices", response_model=NoticePage, summary="Notices this office holds (newest first, paged)")
async def get_notices(
    ctx: CtxDep,
    principal: PrincipalDep,
    notice_type: Annotated[NoticeType | None, Query(examples=["red"])] = None,
    status: Annotated[NoticeStatus | None, Query(examples=["published"])] = None,
    requesting_office: Annotated[str | None, Query(examples=["ncb.fr"])] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> NoticePage:
    """At the GS: every request received and its status. At an NCB: the notices sent to it by the GS,
    and its own requests (status `submitted` until the GS decides). Another office's token lists only
    its own requests and the published notices its distribution lets it receive."""
    async with ctx.engine.connect() as conn:
        return await store.list_notices(
            conn,
            reader=reader(principal, ctx.office, ctx.directory),
            notice_type=notice_type,
            status=status,
            requesting_office=requesting_office,
            limit=limit,
            cursor=cursor,
        )


@router.get("/notices/{notice_id}", response_model=NoticeDetail, summary="One notice with its history")
async def get_notice(notice_id: str, ctx: CtxDep, principal: PrincipalDep) -> NoticeDetail:
    """The history lists every status change with who made it and why, and the message that carried it.
    At the GS the screening, reviewer and decision reason are shown to reviewers and admins only;
    another office gets the notice as it was sent to it. A notice the caller may not read is a 404,
    the same as one that does not exist."""
    async with ctx.engine.connect() as conn:
        notice = await store.detail(conn, notice_id, reader(principal, ctx.office, ctx.directory))
    if notice is None:
        raise HTTPException(404, f"this office holds no notice {notice_id}")
    return notice
