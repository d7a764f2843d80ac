"""NCB message handlers: a GS refusal of this office's request, and hits on notices it holds.

They run inside the inbox consumer's unit of work, after the envelope was verified and stored.
Published and cancelled notices are kept by the shared `interpol_mesh.notices.copies` handler.
"""

from __future__ import annotations

import logging

from interpol_mesh.directory import GS_ID
from interpol_mesh.envelope import Verified
from interpol_mesh.messages import FreeTextMessage, HitReport
from interpol_mesh.messaging import OfficeContext, UnitOfWork
from interpol_mesh.notices import store as notices
from interpol_mesh.notices.refusal import refused_notice

log = logging.getLogger(__name__)


def _gs(ctx: OfficeContext) -> str:
    return GS_ID


async def on_message(uow: UnitOfWork, verified: Verified) -> None:
    """A GS refusal of this office's own request marks it `refused` with the reason given."""
    conn, ctx = uow.conn, uow.ctx
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


async def on_hit_report(uow: UnitOfWork, verified: Verified) -> None:
    """A hit on a notice this office holds is added to that notice's history (the report is in the inbox)."""
    conn, ctx = uow.conn, uow.ctx
    report = verified.body
    assert isinstance(report, HitReport)
    row = await notices.get_notice(conn, report.notice_id)
    if row is None:
        return
    await notices.record(
        conn, report.notice_id, action="hit", status=row.status, at=ctx.clock.now(), actor=verified.header.sender,
        reason=f"{report.country} {report.place}"[:2000], message_id=verified.header.message_id,
    )  # fmt: skip
