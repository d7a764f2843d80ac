"""Review decisions at the General Secretariat: publish, refuse, cancel, and the messages they send.

Every function runs in the caller's unit of work: the status change, the history entry and the
signed message (with its outbox rows and audit record) commit together or not at all. The status change comes
first and is conditional, so of two reviewers deciding at once only one sends anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

import interpol_mesh.notices.store as notices
from interpol_mesh.clock import utc
from interpol_mesh.envelope.signers import signed_request_of
from interpol_mesh.messages import NoticeEvent, NoticeRequest, Priority, SignedRequest
from interpol_mesh.messaging import OfficeContext, UnitOfWork, compose
from interpol_mesh.notices import InvalidTransition, Screening, expiry_for, recipients_for
from interpol_mesh.notices.refusal import refusal_message
from interpol_mesh.notices.views import Signature
from interpol_mesh.storage import tables
from interpol_offices.police_data import notice_feed


class NoticeNotFound(LookupError):
    pass


class DecisionNotAllowed(ValueError):
    """The decision is not acceptable for this notice as it stands (HTTP 422)."""


@dataclass(frozen=True)
class Outcome:
    notice_id: str
    status: str
    message_id: str
    recipients: list[str]


async def _pending(conn: AsyncConnection, notice_id: str) -> Any:
    row = await notices.get_notice(conn, notice_id)
    if row is None:
        raise NoticeNotFound(notice_id)
    if row.status != "pending-review":
        raise InvalidTransition(notice_id, row.status, "published or refused")
    return row


async def request_envelope_meta(conn: AsyncConnection, notice_id: str) -> tuple[str | None, Priority]:
    """Language and priority of the original request, reused for what the GS sends about it."""
    i = tables.inbox
    row = (await conn.execute(sa.select(i.c.language, i.c.priority).where(i.c.message_id == notice_id))).first()
    return (row.language, row.priority) if row is not None else (None, "routine")


async def signed_request(conn: AsyncConnection, notice_id: str) -> SignedRequest | None:
    """The requesting office's envelope exactly as received (the notice id is the request's message id)."""
    i = tables.inbox
    query = sa.select(i.c.envelope).where(i.c.message_id == notice_id, i.c.kind == "notice-request")
    raw = (await conn.execute(query)).scalar()
    return signed_request_of(bytes(raw)) if raw is not None else None


def _signers(ctx: OfficeContext, requester: str, signed: SignedRequest | None) -> list[Signature]:
    """The history's view of an event the GS sends: the requester's signatures inside, the GS's outside."""
    inner = (
        [{"office_id": requester, "key_id": s.keyid, "role": "requester"} for s in signed.signatures] if signed else []
    )
    outer = {"office_id": ctx.office.id, "key_id": ctx.signer.key_id, "role": "publisher"}
    return [Signature.model_validate(s) for s in [*inner, outer]]


async def send_refusal(
    uow: UnitOfWork, notice_id: str, request: NoticeRequest, reason: str, screening: Screening | None
) -> str:
    language, priority = await request_envelope_meta(uow.conn, notice_id)
    out = compose(
        uow.ctx, kind="message", recipients=[request.requesting_office],
        body=refusal_message(notice_id, request.title, reason, screening),
        language=language, priority=priority, correlation_id=notice_id,
    )  # fmt: skip
    await uow.send(out)
    return out.header.message_id


def check_publishable(screening: Screening, reason: str | None) -> None:
    """Missing fields block publication; any other failed check needs the reviewer's stated reason."""
    if screening.missing:
        raise DecisionNotAllowed(
            f"cannot publish: required fields missing ({', '.join(screening.missing)}); refuse it so the office can resubmit"
        )
    if not screening.auto_checks_passed and not reason:
        found = []
        if screening.article3_flags:
            found.append("Article 3 flags: " + ", ".join(sorted({f.matched for f in screening.article3_flags})))
        if screening.threshold_issues:
            found.append("conditions not met: " + ", ".join(i.field for i in screening.threshold_issues))
        raise DecisionNotAllowed(f"publishing needs a reason: the screening did not pass ({'; '.join(found)})")


async def decide(uow: UnitOfWork, notice_id: str, *, decision: str, reviewer: str, reason: str | None) -> Outcome:
    """Publish or refuse a pending request; raises NoticeNotFound, InvalidTransition or DecisionNotAllowed."""
    row = await _pending(uow.conn, notice_id)
    screening = Screening.model_validate(row.screening)
    request = NoticeRequest.model_validate(row.request)
    reason = (reason or "").strip() or None
    if decision == "refuse":
        if reason is None:
            raise DecisionNotAllowed("a refusal needs a reason: the requesting office is told why")
        return await _refuse(uow, notice_id, request, screening, reviewer.strip(), reason)
    check_publishable(screening, reason)
    return await _publish(uow, notice_id, request, reviewer.strip(), reason)


async def _refuse(
    uow: UnitOfWork, notice_id: str, request: NoticeRequest, screening: Screening, reviewer: str, reason: str
) -> Outcome:
    conn, now = uow.conn, uow.ctx.clock.now()
    await notices.transition(
        conn, notice_id, current="pending-review", status="refused", now=now, reviewer=reviewer, decision_reason=reason
    )
    message_id = await send_refusal(uow, notice_id, request, reason, screening)
    await notices.record(
        conn, notice_id, action="refused", status="refused", at=now, actor=reviewer, reason=reason, message_id=message_id
    )  # fmt: skip
    return Outcome(notice_id, "refused", message_id, [request.requesting_office])


async def _publish(
    uow: UnitOfWork, notice_id: str, request: NoticeRequest, reviewer: str, reason: str | None
) -> Outcome:
    conn, ctx = uow.conn, uow.ctx
    now = ctx.clock.now()
    expires_at = expiry_for(now)
    await notices.transition(
        conn, notice_id, current="pending-review", status="published", now=now, reviewer=reviewer,
        decision_reason=reason, published_at=now, expires_at=expires_at,
    )  # fmt: skip
    recipients = recipients_for(request.distribution, request.requesting_office, ctx.directory)
    signed = await signed_request(conn, notice_id)
    if signed is None:  # every reviewable notice came in as a signed request: its inbox row is the proof
        raise DecisionNotAllowed("cannot publish: the requesting office's signed request is not in the inbox")
    # The reviewer's reason stays at the GS: it is internal deliberation, not part of the notice.
    event = NoticeEvent(
        event="published", notice_id=notice_id, notice_type=request.notice_type, requesting_office=request.requesting_office,
        notice=request, published_at=now, expires_at=expires_at, request=signed,
    )  # fmt: skip
    message_id = await _send_event(uow, notice_id, event, recipients)
    await notice_feed.on_notice_published(
        uow, notice_id, request, recipients=recipients, expires_at=expires_at, message_id=message_id
    )
    await notices.record(
        conn, notice_id, action="published", status="published", at=now, actor=reviewer, reason=reason,
        message_id=message_id, signers=_signers(ctx, request.requesting_office, signed),
    )  # fmt: skip
    return Outcome(notice_id, "published", message_id, recipients)


async def cancel(uow: UnitOfWork, notice_id: str, *, reason: str, reviewer: str | None) -> Outcome:
    """Cancel a published notice and tell exactly the offices that received its publication."""
    conn, ctx = uow.conn, uow.ctx
    row = await notices.get_notice(conn, notice_id)
    if row is None:
        raise NoticeNotFound(notice_id)
    now = ctx.clock.now()
    reason = reason.strip()
    await notices.transition(conn, notice_id, current=row.status, status="cancelled", now=now)
    request = NoticeRequest.model_validate(row.request)
    signed = await signed_request(conn, notice_id)  # a cancellation may be the GS's alone, but carries it if held
    recipients = await _published_recipients(conn, notice_id) or recipients_for(
        request.distribution, request.requesting_office, ctx.directory
    )
    event = NoticeEvent(
        event="cancelled", notice_id=notice_id, notice_type=request.notice_type, requesting_office=request.requesting_office,
        notice=request, published_at=utc(row.published_at), expires_at=utc(row.expires_at) if row.expires_at else None,
        reason=reason, request=signed,
    )  # fmt: skip
    message_id = await _send_event(uow, notice_id, event, recipients)
    await notice_feed.on_notice_ended(uow, notice_id, request, message_id=message_id)
    await notices.record(
        conn, notice_id, action="cancelled", status="cancelled", at=now, actor=reviewer, reason=reason,
        message_id=message_id, signers=_signers(ctx, request.requesting_office, signed),
    )  # fmt: skip
    return Outcome(notice_id, "cancelled", message_id, recipients)


async def _send_event(uow: UnitOfWork, notice_id: str, event: NoticeEvent, recipients: list[str]) -> str:
    language, priority = await request_envelope_meta(uow.conn, notice_id)
    out = compose(
        uow.ctx, kind="notice-event", recipients=recipients, body=event, language=language, priority=priority,
        correlation_id=notice_id,
    )  # fmt: skip
    await uow.send(out)
    return out.header.message_id


async def _published_recipients(conn: AsyncConnection, notice_id: str) -> list[str] | None:
    """The recipients of the signed published event, as sent (the directory may have changed since)."""
    message_id = await notices.history_message(conn, notice_id, "published")
    if message_id is None:
        return None
    recipients = (
        await conn.execute(sa.select(tables.sent.c.recipients).where(tables.sent.c.message_id == message_id))
    ).scalar()
    return list(recipients) if recipients else None
