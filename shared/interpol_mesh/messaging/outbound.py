"""Compose and sign an outgoing envelope (CPU only); `UnitOfWork.send` writes it.

Signing needs no database, so it happens before the transaction opens (the group writer holds
none while a request signs); `uow.send` then writes the envelope with its outbox rows, and
because both commit together, a crash after the API accepted a message and before it was
published loses nothing: the relay publishes it after restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.trace import set_span_in_context
from pydantic import BaseModel

from interpol_mesh.envelope import Header, Sealed, seal
from interpol_mesh.ids import new_message_id
from interpol_mesh.messages import Kind, Priority, Receipt
from interpol_mesh.messaging.accept import note_accepted
from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.observability.tracing import in_trace

DEFAULT_LIFETIME = timedelta(days=30)


@dataclass(frozen=True)
class Outgoing:
    header: Header
    sealed: Sealed
    track_delivery: bool = True
    # The trace this envelope belongs to (tracing on only): its outbox rows keep it for the relay.
    trace: Context | None = None
    receipt_type: str | None = None


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
    trace: Context | None = None,
) -> Outgoing:
    """Build and sign an envelope (CPU only); `await uow.send(out)` writes it.

    `trace`: the trace it continues (a `delivered` receipt: its message's); by default the
    current one (the officer's `accept` request). The signing is stage `sign`, or `receipt`
    for a `delivered` receipt.
    """
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
    rtype = body.receipt_type if isinstance(body, Receipt) else None
    if ctx.stages.tracing:
        trace = trace if trace is not None else otel_context.get_current()
        note_accepted(header.message_id)
        attributes = {"mesh.message_id": header.message_id, "mesh.kind": kind, "mesh.sender": header.sender}
        if correlation_id:
            attributes["mesh.correlation_id"] = correlation_id
        if rtype:
            attributes["mesh.receipt_type"] = rtype
    else:
        trace, attributes = None, None
    with ctx.stages.timed("receipt" if rtype == "delivered" else "sign", trace, attributes) as span:
        sealed = seal(header, body, ctx.signer)
    if span is not None and not in_trace(trace):  # sent outside any request: the signing starts its trace
        trace = set_span_in_context(span)
    return Outgoing(header=header, sealed=sealed, track_delivery=track_delivery, trace=trace, receipt_type=rtype)
