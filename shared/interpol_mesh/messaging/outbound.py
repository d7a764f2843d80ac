"""Compose, sign and store an outgoing envelope with its outbox rows, in the caller's transaction.

Because the message and its outbox rows commit together, a crash after the API accepted a
message and before it was published loses nothing: the relay publishes it after restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.audit import AuditEvent
from interpol_mesh.bus import subjects
from interpol_mesh.envelope import Header, Sealed, seal
from interpol_mesh.ids import new_message_id
from interpol_mesh.messages import Kind, Priority
from interpol_mesh.messaging import audit_trail
from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.storage import tables

DEFAULT_LIFETIME = timedelta(days=30)


@dataclass(frozen=True)
class Outgoing:
    header: Header
    sealed: Sealed


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
    sealed = seal(header, body, ctx.signer)
    mid = header.message_id
    await conn.execute(
        tables.sent.insert().values(
            message_id=mid,
            kind=kind,
            payload_type=f"application/vnd.interpol-mesh.{kind}.v1+json",
            recipients=list(recipients),
            correlation_id=correlation_id,
            created_at=now,
            digest=sealed.digest,
            envelope=sealed.data,
        )
    )
    if track_delivery:
        await conn.execute(tables.delivery.insert(), [{"message_id": mid, "recipient": r} for r in recipients])
    await conn.execute(
        tables.outbox.insert(),
        [
            {
                "message_id": mid,
                "subject": subjects.for_envelope(kind, ctx.office.id, r),
                "dedupe_id": f"{mid}:{r}",
                "data": sealed.data,
                "created_at": now,
            }
            for r in recipients
        ],
    )
    audit_trail.record(
        conn,
        AuditEvent(event="envelope-sent", result="sent", message_id=mid, digest=sealed.digest,
                   sender=ctx.office.id, recipients=list(recipients), at=now, detail=kind),
    )  # fmt: skip
    return Outgoing(header=header, sealed=sealed)
