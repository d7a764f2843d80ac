"""GS handler for `notice-request`: screen it and store it for review (or refuse it if incomplete).

Runs in the inbox consumer's unit of work, after the request's signature was verified: the
stored notice, its screening and any refusal message commit with the received message.
"""

from __future__ import annotations

from interpol_mesh.envelope import Verified
from interpol_mesh.messages import NoticeRequest
from interpol_mesh.messaging import UnitOfWork
from interpol_mesh.notices import Issue, Screening, screen
from interpol_mesh.notices import store as notices
from interpol_offices.general_secretariat.review import send_refusal

AUTO_REFUSAL = "Refused automatically: required fields are missing. Nothing was reviewed; resubmit a complete request."


def _attributed(request: NoticeRequest, signer: str) -> tuple[NoticeRequest, Issue | None]:
    """The signed sender is the requester; a body naming another office is recorded, not believed."""
    if request.requesting_office == signer:
        return request, None
    detail = f"the request names {request.requesting_office} but was signed by {signer}; recorded as {signer}'s request"
    return request.model_copy(update={"requesting_office": signer}), Issue(field="requesting_office", detail=detail)


async def on_notice_request(uow: UnitOfWork, verified: Verified) -> None:
    conn, ctx = uow.conn, uow.ctx
    assert isinstance(verified.body, NoticeRequest)
    notice_id = verified.header.message_id
    if await notices.get_notice(conn, notice_id) is not None:
        return
    request, attribution = _attributed(verified.body, verified.header.sender)
    screening = screen(request, ctx.directory)
    if attribution is not None:
        issues = [attribution, *screening.threshold_issues]
        screening = Screening.model_validate(
            {**screening.model_dump(), "threshold_issues": issues, "auto_checks_passed": False}
        )
    now = ctx.clock.now()
    signers = notices.signers_of(verified, "requester")  # the requester's own signature over its request
    if not screening.auto_refuse:
        await notices.insert_notice(
            conn, notice_id=notice_id, request=request, status="pending-review", now=now, screening=screening
        )
        await notices.record(
            conn, notice_id, action="received", status="pending-review", at=now, actor=request.requesting_office,
            message_id=notice_id, signers=signers,
        )  # fmt: skip
        return
    await notices.insert_notice(
        conn,
        notice_id=notice_id,
        request=request,
        status="refused",
        now=now,
        screening=screening,
        decision_reason=AUTO_REFUSAL,
    )
    await notices.record(
        conn,
        notice_id,
        action="received",
        status="refused",
        at=now,
        actor=request.requesting_office,
        message_id=notice_id,
        signers=signers,
    )
    message_id = await send_refusal(uow, notice_id, request, AUTO_REFUSAL, screening)
    await notices.record(
        conn, notice_id, action="refused", status="refused", at=now, actor="screening", reason=AUTO_REFUSAL,
        message_id=message_id,
    )  # fmt: skip
