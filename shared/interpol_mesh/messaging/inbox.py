"""Reading the inbox and sent messages, and acknowledging: the queries behind the exchange API."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.audit import AuditEvent
from interpol_mesh.clock import utc
from interpol_mesh.messaging.receipts import receipt_for
from interpol_mesh.messaging.unit_of_work import UnitOfWork
from interpol_mesh.storage import tables
from interpol_mesh.strict_json import loads_strict


class InboxItem(BaseModel):
    message_id: str
    sender: str
    kind: str
    notice_type: str | None
    language: str
    priority: str
    correlation_id: str | None
    created_at: datetime
    received_at: datetime
    acknowledged_at: datetime | None
    title: str | None


class Verification(BaseModel):
    """How the message was checked on arrival; every accepted message passed all of these."""

    key_id: str
    digest_sha256: str
    checks: list[str]
    key_directory_version: int | None = Field(
        description="The key directory version that verified the message on arrival "
        "(null for messages stored before the version was recorded)"
    )
    ignored_fields: list[str] = Field(
        default=[],
        description="Fields of the signed header and body this office does not know and ignored (a newer v1 "
        "sender's optional fields), as dotted paths such as body.person.x_new; they stay in the envelope",
    )


class InboxMessage(InboxItem):
    body: dict[str, Any]
    verification: Verification
    envelope_b64: str


class InboxPage(BaseModel):
    items: list[InboxItem]
    next_cursor: str | None


CHECKS = [
    "size within limit",
    "signature verified (Ed25519 over DSSE PAE of payload type and exact bytes)",
    "key listed in the GS-signed key directory",
    "key belongs to the sender office",
    "key valid and not revoked at signing time",
    "not expired",
    "addressed to this office",
    "not seen before",
    "payload valid against its schema (fields unknown to this version ignored: see ignored_fields)",
]


def _item(row: Any) -> dict[str, Any]:
    body = row.body or {}
    return {
        "message_id": row.message_id,
        "sender": row.sender,
        "kind": row.kind,
        "notice_type": row.notice_type,
        "language": row.language,
        "priority": row.priority,
        "correlation_id": row.correlation_id,
        "created_at": utc(row.created_at),
        "received_at": utc(row.received_at),
        "acknowledged_at": utc(row.acknowledged_at) if row.acknowledged_at else None,
        "title": body.get("title") or (body.get("notice") or {}).get("title"),
    }


async def list_inbox(
    conn: AsyncConnection,
    *,
    kind: str | None = None,
    notice_type: str | None = None,
    language: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    include_receipts: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> InboxPage:
    """Newest arrival first, keyset-paged by the bus's stream sequence.

    The sequence is assigned by the server as messages arrive; a message id is chosen by the sender,
    who could otherwise pin a message to the top of every inbox (or bury it) by picking its id.
    The consumer stores the sequence of every message it accepts (JetStream metadata), so a plain
    descending order walks the index on both backends.
    """
    i = tables.inbox
    query = sa.select(i).order_by(i.c.stream_seq.desc()).limit(limit + 1)
    if kind:
        query = query.where(i.c.kind == kind)
    elif not include_receipts:
        query = query.where(i.c.kind != "receipt")
    if notice_type:
        query = query.where(i.c.notice_type == notice_type)
    if language:
        query = query.where(sa.or_(i.c.language == language, i.c.language.like(f"{language}-%")))
    if since:
        query = query.where(i.c.received_at >= since)
    if until:
        query = query.where(i.c.received_at < until)
    if cursor:
        query = query.where(i.c.stream_seq < int(cursor))
    rows = (await conn.execute(query)).all()
    items = [InboxItem(**_item(r)) for r in rows[:limit]]
    more = len(rows) > limit and rows[limit - 1].stream_seq is not None
    return InboxPage(items=items, next_cursor=str(rows[limit - 1].stream_seq) if more else None)


async def read_message(conn: AsyncConnection, message_id: str) -> InboxMessage | None:
    row = (await conn.execute(sa.select(tables.inbox).where(tables.inbox.c.message_id == message_id))).first()
    if row is None:
        return None
    return InboxMessage(
        **_item(row),
        body=row.body,
        verification=Verification(
            key_id=row.key_id,
            digest_sha256=row.digest,
            checks=CHECKS,
            key_directory_version=row.directory_version,
            ignored_fields=list(row.ignored_fields or []),
        ),
        envelope_b64=base64.b64encode(row.envelope).decode(),
    )


async def acknowledge(uow: UnitOfWork, message_id: str) -> datetime | None:
    """Mark read-and-actioned and send an `acknowledged` receipt to the sender (once)."""
    conn, i = uow.conn, tables.inbox
    row = (
        await conn.execute(
            sa.select(i.c.sender, i.c.kind, i.c.digest, i.c.acknowledged_at).where(i.c.message_id == message_id)
        )
    ).first()
    if row is None:
        return None
    if row.acknowledged_at is not None:
        return utc(row.acknowledged_at)
    now = uow.ctx.clock.now()
    await conn.execute(i.update().where(i.c.message_id == message_id).values(acknowledged_at=now))
    # Staff acted on it: that is a fact of this office's own, beside the receipt it sends.
    uow.audit(
        AuditEvent(event="acknowledged", result="acknowledged", message_id=message_id, digest=row.digest,
                   sender=row.sender, recipients=[uow.ctx.office.id], at=now, detail=row.kind),
    )  # fmt: skip
    await uow.send(
        receipt_for(uow.ctx, "acknowledged", to=row.sender, message_id=message_id, digest=row.digest, at=now)
    )
    return now


class RefusedReceipt(BaseModel):
    """A receipt about this message that was refused (`receipt-mismatch`): it proves nothing and counts for nothing."""

    receipt_message_id: str | None = Field(description="The refused receipt's own message id")
    sender: str | None = Field(description="The office that signed the receipt (its signature verified)")
    receipt_type: str | None = Field(description="delivered or acknowledged, as the receipt claimed")
    reason: str
    detail: str
    received_at: datetime


class RecipientStatus(BaseModel):
    recipient: str
    delivered_at: datetime | None
    acknowledged_at: datetime | None
    refused_receipts: list[RefusedReceipt] = Field(
        default=[], description="Receipts from this recipient about this message that did not match what was sent"
    )


class SentStatus(BaseModel):
    message_id: str
    kind: str
    created_at: datetime
    published: bool
    recipients: list[RecipientStatus]
    refused_receipts_from_others: list[RefusedReceipt] = Field(
        default=[], description="Refused receipts about this message signed by offices that are not its recipients"
    )


async def sent_status(conn: AsyncConnection, message_id: str) -> SentStatus | None:
    s, d, o = tables.sent, tables.delivery, tables.outbox
    row = (await conn.execute(sa.select(s).where(s.c.message_id == message_id))).first()
    if row is None:
        return None
    deliveries = (await conn.execute(sa.select(d).where(d.c.message_id == message_id).order_by(d.c.recipient))).all()
    pending = (
        await conn.execute(
            sa.select(sa.func.count()).select_from(o).where(o.c.message_id == message_id, o.c.published_at.is_(None))
        )
    ).scalar_one()
    refused = await refused_receipts_about(conn, message_id)
    recipients = {r.recipient for r in deliveries}
    return SentStatus(
        message_id=message_id,
        kind=row.kind,
        created_at=utc(row.created_at),
        published=pending == 0,
        recipients=[
            RecipientStatus(
                recipient=r.recipient,
                delivered_at=utc(r.delivered_at) if r.delivered_at else None,
                acknowledged_at=utc(r.acknowledged_at) if r.acknowledged_at else None,
                refused_receipts=[x for x in refused if x.sender == r.recipient],
            )
            for r in deliveries
        ],
        refused_receipts_from_others=[x for x in refused if x.sender not in recipients],
    )


MAX_REFUSED_LISTED_PER_SENDER = 20  # the newest of each: one office flooding bad receipts hides no other's


async def refused_receipts_about(conn: AsyncConnection, message_id: str) -> list[RefusedReceipt]:
    """The quarantined receipts that named `message_id`, oldest first (quarantine_0003 onwards).

    At most the newest MAX_REFUSED_LISTED_PER_SENDER per claimed sender (all are in /v1/quarantine).
    Who signed it and what it claimed are read from the stored envelope: a receipt is refused only
    after every stateless check, so its signature verified and the envelope was kept whole.
    """
    q = tables.quarantine
    newest = sa.func.row_number().over(partition_by=q.c.claimed_sender, order_by=q.c.id.desc()).label("newest")
    about = (
        sa.select(q.c.id, q.c.received_at, q.c.reason, q.c.detail, q.c.message_id, q.c.raw, newest)
        .where(q.c.about_message_id == message_id)
        .subquery()
    )
    rows = (
        await conn.execute(sa.select(about).where(about.c.newest <= MAX_REFUSED_LISTED_PER_SENDER).order_by(about.c.id))
    ).all()
    refused = []
    for r in rows:
        sender, receipt_type = _receipt_claims(bytes(r.raw))
        refused.append(
            RefusedReceipt(
                receipt_message_id=r.message_id, sender=sender, receipt_type=receipt_type, reason=r.reason,
                detail=r.detail, received_at=utc(r.received_at),
            )
        )  # fmt: skip
    return refused


def _receipt_claims(raw: bytes) -> tuple[str | None, str | None]:
    """The signed sender and receipt type of a stored (verified) receipt envelope; None where unreadable."""
    try:
        signed = loads_strict(base64.b64decode(loads_strict(raw)["payload"], validate=True))
        sender, receipt_type = signed["header"]["sender"], signed["body"]["receipt_type"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None, None
    return (sender if isinstance(sender, str) else None), (receipt_type if isinstance(receipt_type, str) else None)


class QuarantineItem(BaseModel):
    id: int
    received_at: datetime
    subject: str
    reason: str
    detail: str
    claimed_sender: str | None
    message_id: str | None
    size_bytes: int = Field(description="Size of the input as received")
    sha256: str = Field(description="SHA-256 of the whole input, hex")
    stored_bytes: int = Field(description="How much of it this office kept")
    truncated: bool = Field(description="Only a prefix was kept: input that is not an envelope (malformed, oversized)")


class QuarantineSummary(BaseModel):
    total: int
    by_reason: dict[str, int]
    stored_bytes: int = Field(description="Bytes of rejected input this office holds")


async def list_quarantine(conn: AsyncConnection, reason: str | None, limit: int) -> list[QuarantineItem]:
    q = tables.quarantine
    query = sa.select(q.c.id, q.c.received_at, q.c.subject, q.c.reason, q.c.detail, q.c.claimed_sender,
                      q.c.message_id, q.c.raw_size, q.c.raw_sha256,
                      sa.func.length(q.c.raw).label("stored")).order_by(q.c.id.desc()).limit(limit)  # fmt: skip
    if reason:
        query = query.where(q.c.reason == reason)
    rows = (await conn.execute(query)).all()
    return [
        QuarantineItem(
            id=r.id,
            received_at=utc(r.received_at),
            subject=r.subject,
            reason=r.reason,
            detail=r.detail,
            claimed_sender=r.claimed_sender,
            message_id=r.message_id,
            size_bytes=r.raw_size,
            sha256=r.raw_sha256,
            stored_bytes=r.stored,
            truncated=r.stored < r.raw_size,
        )
        for r in rows
    ]


async def quarantine_summary(conn: AsyncConnection) -> QuarantineSummary:
    """Counts per reason: the listing is capped, a flood of one reason must still show in numbers."""
    q = tables.quarantine
    rows = (
        await conn.execute(
            sa.select(q.c.reason, sa.func.count().label("n"), sa.func.sum(sa.func.length(q.c.raw)).label("stored"))
            .group_by(q.c.reason)
            .order_by(q.c.reason)
        )
    ).all()
    return QuarantineSummary(
        total=sum(r.n for r in rows),
        by_reason={r.reason: r.n for r in rows},
        stored_bytes=sum(int(r.stored or 0) for r in rows),
    )
