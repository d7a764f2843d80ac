"""Read API for notices, the same at the GS (authoritative record) and at NCBs (their copies)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.auth.deps import ANY_OFFICE, OFFICER, REVIEWER, requires
from interpol_mesh.messages import NoticeType
from interpol_mesh.notices import store
from interpol_mesh.notices.status import NoticeStatus
from interpol_mesh.notices.views import NoticeDetail, NoticePage

router = APIRouter(prefix="/v1", tags=["notices"], dependencies=[requires(OFFICER, REVIEWER, *ANY_OFFICE)])


@router.get("/notices", response_model=NoticePage, summary="Notices this office holds (newest first, paged)")
async def get_notices(
    ctx: CtxDep,
    notice_type: Annotated[NoticeType | None, Query(examples=["red"])] = None,
    status: Annotated[NoticeStatus | None, Query(examples=["published"])] = None,
    requesting_office: Annotated[str | None, Query(examples=["ncb.fr"])] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> NoticePage:
    """At the GS: every request received and its status. At an NCB: the notices sent to it by the GS,
    and its own requests (status `submitted` until the GS decides)."""
    async with ctx.engine.connect() as conn:
        return await store.list_notices(
            conn,
            notice_type=notice_type,
            status=status,
            requesting_office=requesting_office,
            limit=limit,
            cursor=cursor,
        )


@router.get("/notices/{notice_id}", response_model=NoticeDetail, summary="One notice with its history")
async def get_notice(notice_id: str, ctx: CtxDep) -> NoticeDetail:
    """The history lists every status change with who made it and why, and the message that carried it."""
    async with ctx.engine.connect() as conn:
        notice = await store.detail(conn, notice_id)
    if notice is None:
        raise HTTPException(404, f"this office holds no notice {notice_id}")
    return notice
