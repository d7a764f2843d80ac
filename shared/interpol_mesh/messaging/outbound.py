"""Compose and sign an outgoing envelope (CPU only); `UnitOfWork.send` writes it.

Signing needs no database, so it happens before the transaction opens (the group writer holds
none while a request signs); `uow.send` then writes the envelope with its outbox rows, and
because both commit together, a crash after the API accepted a message and before it was
published loses nothing: the relay publishes it after restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel

from interpol_mesh import stage_trace
from interpol_mesh.envelope import Header, Sealed, seal
from interpol_mesh.ids import new_message_id
from interpol_mesh.messages import Kind, Priority
from interpol_mesh.messaging.context import OfficeContext

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
    """Build and sign an envelope (CPU only); `await uow.send(out)` writes it."""
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
