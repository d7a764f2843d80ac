"""An office's copies of published notices, kept in step with the General Secretariat's signed events.

Every office the GS publishes a notice to keeps a copy: the NCBs the distribution allows (to act
on it and report hits) and the CCC (to confirm that a hit report names a real, published notice
before it treats the hit as urgent). The handler runs inside the inbox consumer's unit of work,
after the envelope was verified and stored, so a copy changes only together with the signed
message that changed it. It is idempotent and monotonic: a late or repeated event never brings a
cancelled notice back.
"""

from __future__ import annotations

from typing import Any

from interpol_mesh.envelope import Verified
from interpol_mesh.messages import NoticeEvent
from interpol_mesh.messaging import UnitOfWork
from interpol_mesh.notices import store as notices


async def on_notice_event(uow: UnitOfWork, verified: Verified) -> None:
    """Upsert the copy: published/updated -> published (or expired), cancelled -> cancelled."""
    conn, ctx = uow.conn, uow.ctx
    event = verified.body
    assert isinstance(event, NoticeEvent)
    # Only the GS sends notice events, and a published one carries the requester's signed request:
    # the signer policy (interpol_mesh.envelope.signers) refused anything else before this runs.
    sender = verified.header.sender
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
    values: dict[str, Any] = {"published_at": event.published_at, "expires_at": event.expires_at}
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
        message_id=verified.header.message_id, signers=notices.signers_of(verified, "publisher"),
    )  # fmt: skip
