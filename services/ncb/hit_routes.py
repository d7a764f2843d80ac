"""NCB API: report a hit on a notice to the office that requested it and to the CCC."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.auth.deps import OFFICER, requires
from interpol_mesh.messages import HitReport
from interpol_mesh.messaging import compose
from interpol_mesh.notices import store as notices
from interpol_offices.ncb.schemas import HitSend, HitSent

router = APIRouter(prefix="/v1", tags=["notices"], dependencies=[requires(OFFICER)])


@router.post(
    "/hits",
    status_code=202,
    response_model=HitSent,
    summary="Report a hit on a notice",
    responses={404: {"description": "This office holds no such notice"}, 409: {"description": "Not published"}},
)
async def report_hit(req: HitSend, ctx: CtxDep) -> HitSent:
    """Sends a signed `hit-report` to the requesting office and to the CCC (urgent by default).

    The notice must be one this office holds and still valid: the type and the requesting office
    are taken from that copy rather than typed in, so a hit cannot be routed to the wrong office.
    A cancelled or expired notice is refused with 409: the person may no longer be wanted.
    """
    draft = req.body
    ccc = ctx.directory.of_kind("ccc")[0].id
    now = ctx.clock.now()
    async with ctx.transaction() as uow:
        row = await notices.get_notice(uow.conn, draft.notice_id)
        if row is None:
            raise HTTPException(404, f"this office holds no notice {draft.notice_id}")
        if row.status != "published":
            raise HTTPException(status.HTTP_409_CONFLICT, f"notice {draft.notice_id} is {row.status}, not published")
        report = HitReport(
            notice_id=row.notice_id,
            notice_type=row.notice_type,
            requesting_office=row.requesting_office,
            hit_at=draft.hit_at,
            country=(draft.country or ctx.office.country or "").upper(),
            place=draft.place,
            description=draft.description,
            subject_detained=draft.subject_detained,
        )
        recipients = sorted({row.requesting_office, ccc} - {ctx.office.id})
        out = compose(
            ctx, kind="hit-report", recipients=recipients, body=report, language=req.language,
            priority=req.priority, correlation_id=row.notice_id,
        )  # fmt: skip
        await uow.send(out)
        await notices.record(
            uow.conn, row.notice_id, action="hit-reported", status=row.status, at=now, actor=ctx.office.id,
            reason=draft.place, message_id=out.header.message_id,
        )  # fmt: skip
    return HitSent(message_id=out.header.message_id, recipients=recipients, digest_sha256=out.sealed.digest)
