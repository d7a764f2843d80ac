"""NCB message handlers: keep this office's notice copies in step with the General Secretariat.

They run inside the inbox consumer's transaction, after the envelope was verified and stored,
so a copy changes only together with the signed message that changed it. Each handler is
idempotent and monotonic: a late or repeated event never brings a cancelled notice back.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.envelope import Verified
from interpol_mesh.messages import FreeTextMessage, HitReport, NoticeEvent
from interpol_mesh.messaging import OfficeContext
from interpol_mesh.notices import store as notices
from interpol_mesh.notices.refusal import refused_notice

log = logging.getLogger(__name__)


def _gs(ctx: OfficeContext) -> str:
    return ctx.directory.of_kind("gs")[0].id


async def on_notice_event(conn: AsyncConnection, ctx: OfficeContext, verified: Verified) -> None:
    """Upsert the copy: published/updated -> published (or expired), cancelled -> cancelled."""
    event = verified.body
    assert isinstance(event, NoticeEvent)
    sender = verified.header.sender
    if sender != _gs(ctx):
        # Only the GS publishes notices; the message stays in the inbox as evidence, the copy is untouched.
        log.warning("notice event from a non-GS office ignored", extra={"sender": sender, "notice_id": event.notice_id})
        return
    now = ctx.clock.now()
    row = await notices.get_notice(conn, event.notice_id)
    current = row.status if row is not None else None
    if event.event == "cancelled":
        if current == "cancelled":
            return
        status = "cancelled"
    else:
        if current in ("refused", "cancelled") or (event.event == "published" and current in ("published", "expired")):
            return  # repeated or late: never resurrect a notice
        status = "expired" if event.expires_at is not None and event.expires_at <= now else "published"
    values = {"published_at": event.published_at, "expires_at": event.expires_at}
    if event.event == "cancelled":
        values["decision_reason"] = event.reason
    if row is None:
        await notices.insert_notice(
            conn, notice_id=event.notice_id, request=event.notice, status=status, now=now, **values
        )
    else:
        await notices.update_copy(
            conn, event.notice_id, now=now, status=status, **notices.request_columns(event.notice), **values
        )
    await notices.record(
        conn, event.notice_id, action=event.event, status=status, at=now, actor=sender, reason=event.reason,
        message_id=verified.header.message_id,
    )  # fmt: skip


async def on_message(conn: AsyncConnection, ctx: OfficeContext, verified: Verified) -> None:
    """A GS refusal of this office's own request marks it `refused` with the reason given."""
    body = verified.body
    assert isinstance(body, FreeTextMessage)
    notice_id = refused_notice(verified.header, body, _gs(ctx))
    if notice_id is None:
        return
    row = await notices.get_notice(conn, notice_id)
    if row is None or row.requesting_office != ctx.office.id or row.status != "submitted":
        return
    now = ctx.clock.now()
    await notices.update_copy(conn, notice_id, now=now, status="refused", decision_reason=body.text)
    await notices.record(
        conn, notice_id, action="refused", status="refused", at=now, actor=verified.header.sender, reason=body.text,
        message_id=verified.header.message_id,
    )  # fmt: skip


async def on_hit_report(conn: AsyncConnection, ctx: OfficeContext, verified: Verified) -> None:
    """A hit on a notice this office holds is added to that notice's history (the report is in the inbox)."""
    report = verified.body
    assert isinstance(report, HitReport)
    row = await notices.get_notice(conn, report.notice_id)
    if row is None:
        return
    await notices.record(
        conn, report.notice_id, action="hit", status=row.status, at=ctx.clock.now(), actor=verified.header.sender,
        reason=f"{report.country} {report.place}"[:2000], message_id=verified.header.message_id,
    )  # fmt: skip
