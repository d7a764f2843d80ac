"""NCB API: ask the General Secretariat to publish a notice."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.auth.deps import OFFICER, requires
from interpol_mesh.directory import GS_ID
from interpol_mesh.messaging import compose
from interpol_mesh.notices import screen, unknown_countries
from interpol_mesh.notices import store as notices
from interpol_offices.ncb.schemas import NoticeRequested, NoticeRequestSend, Preliminary

router = APIRouter(prefix="/v1", tags=["notices"], dependencies=[requires(OFFICER)])


@router.post(
    "/notice-requests", status_code=202, response_model=NoticeRequested, summary="Ask the GS to publish a notice"
)
async def request_notice(req: NoticeRequestSend, ctx: CtxDep) -> NoticeRequested:
    """Signs a `notice-request` to the General Secretariat and keeps this office's copy as `submitted`.

    Nothing is published until a GS reviewer decides (DOMAIN.md §2: notices are gated before
    publication). The request's message id becomes the notice id. Unknown country codes in the
    distribution are refused here: a mistyped deny-list code would send the notice to the country
    it was meant to exclude.
    """
    unknown = unknown_countries(req.body.distribution, ctx.directory)
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"distribution names non-member countries: {unknown}"
        )
    request = req.body.for_office(ctx.office.id)
    gs = GS_ID
    now = ctx.clock.now()
    async with ctx.transaction() as uow:
        out = compose(
            ctx, kind="notice-request", recipients=[gs], body=request, language=req.language, priority=req.priority
        )
        await uow.send(out)
        notice_id = out.header.message_id
        await notices.insert_notice(uow.conn, notice_id=notice_id, request=request, status="submitted", now=now)
        await notices.record(
            uow.conn,
            notice_id,
            action="submitted",
            status="submitted",
            at=now,
            actor=ctx.office.id,
            message_id=notice_id,
        )
    screening = screen(request, ctx.directory)
    return NoticeRequested(
        notice_id=notice_id,
        status="submitted",
        recipients=[gs],
        digest_sha256=out.sealed.digest,
        preliminary=Preliminary(missing=screening.missing, threshold_issues=screening.threshold_issues),
    )
