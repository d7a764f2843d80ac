"""Compose, sign and store an outgoing envelope with its outbox rows, in the caller's transaction.

Because the message and its outbox rows commit together, a crash after the API accepted a
message and before it was published loses nothing: the relay publishes it after restart.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh import stage_trace
from interpol_mesh.audit import AuditEvent
from interpol_mesh.bus import subjects
from interpol_mesh.envelope import Header, Sealed, seal
from interpol_mesh.ids import new_message_id
from interpol_mesh.messages import Kind, Priority, payload_type
from interpol_mesh.messaging import audit_trail, relay
from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.storage import tables

DEFAULT_LIFETIME = timedelta(days=30)


@dataclass(frozen=True)
class Outgoing:
    header: Header
    sealed: Sealed
    track_delivery: bool = True


def compose(
    ctx: OfficeContext,
    *,
    kind: Kind,
    recipients: list[str],
    body: BaseModel,
    language: str | None = None,
    priority: Priority = "routine",
    correlation_id: str | None = None,
    lifetime: timedelta = DEFAULT_LIFETIME,
    track_delivery: bool = True,
) -> Outgoing:
    """Build and sign an envelope (CPU only); `store` writes it."""
    now = ctx.clock.now()
    header = Header(
        message_id=new_message_id(ctx.clock),
        kind=kind,
        sender=ctx.office.id,
        recipients=tuple(recipients),
        created_at=now,
        expires_at=now + lifetime,
        language=language or ctx.office.language,
        priority=priority,
        correlation_id=correlation_id,
    )
    started = stage_trace.now()
    sealed = seal(header, body, ctx.signer)
    stage_trace.signed(header, body, started)
    return Outgoing(header=header, sealed=sealed, track_delivery=track_delivery)


async def store(conn: AsyncConnection, ctx: OfficeContext, outgoing: list[Outgoing]) -> None:
    """Write envelopes with their delivery and outbox rows: one multi-row statement per table.

    A batch of receipts from the inbox consumer costs three statements, not three per message.
    """
    if not outgoing:
        return
    sent_rows, delivery_rows, outbox_rows = [], [], []
    written: list[relay.OutboxRow] = []
    for out in outgoing:
        h, mid = out.header, out.header.message_id
        sent_rows.append(
            {
                "message_id": mid,
                "kind": h.kind,
                "payload_type": payload_type(h.kind),
                "recipients": list(h.recipients),
                "correlation_id": h.correlation_id,
                "created_at": h.created_at,
                "digest": out.sealed.digest,
                "envelope": out.sealed.data,
            }
        )
        if out.track_delivery:
            delivery_rows += [{"message_id": mid, "recipient": r} for r in h.recipients]
        for r in h.recipients:
            # A random part so no other office can pre-empt this id and have the server drop the
            # real copy as a duplicate; retries reuse the stored row, so dedupe still works.
            row = relay.OutboxRow(subjects.for_envelope(h.kind, h.sender, r), f"{mid}:{r}:{secrets.token_hex(8)}",
                                  out.sealed.data)  # fmt: skip
            written.append(row)
            outbox_rows.append({"message_id": mid, "subject": row.subject, "dedupe_id": row.dedupe_id,
                                "data": row.data, "created_at": h.created_at})  # fmt: skip
        audit_trail.record(
            conn,
            AuditEvent(event="envelope-sent", result="sent", message_id=mid, digest=out.sealed.digest,
                       sender=h.sender, recipients=list(h.recipients), at=h.created_at, detail=h.kind),
        )  # fmt: skip
    await conn.execute(tables.sent.insert(), sent_rows)
    if delivery_rows:
        await conn.execute(tables.delivery.insert(), delivery_rows)
    await conn.execute(tables.outbox.insert(), outbox_rows)
    relay.written(conn, written)


async def send(
    conn: AsyncConnection,
    ctx: OfficeContext,
    *,
    kind: Kind,
    recipients: list[str],
    body: BaseModel,
    language: str | None = None,
    priority: Priority = "routine",
    correlation_id: str | None = None,
    lifetime: timedelta = DEFAULT_LIFETIME,
    track_delivery: bool = True,
) -> Outgoing:
    """Sign one envelope and store it with its outbox rows in the caller's transaction."""
    out = compose(
        ctx, kind=kind, recipients=recipients, body=body, language=language, priority=priority,
        correlation_id=correlation_id, lifetime=lifetime, track_delivery=track_delivery,
    )  # fmt: skip
    await store(conn, ctx, [out])
    return out
