"""The one way to build a receipt: `delivered` (inbox consumer) and `acknowledged` (inbox API) alike.

Both tell the sender which bytes arrived (the SHA-256 of the envelope received) and when, and
neither is itself tracked for delivery: a receipt for a receipt would never end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from opentelemetry.context import Context

from interpol_mesh.messages import Receipt
from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.messaging.outbound import Outgoing, compose

ReceiptType = Literal["delivered", "acknowledged"]


def receipt_for(
    ctx: OfficeContext,
    receipt_type: ReceiptType,
    *,
    to: str,
    message_id: str,
    digest: str,
    at: datetime,
    trace: Context | None = None,
) -> Outgoing:
    """A signed receipt to `to` (the sender) for its message `message_id` whose envelope hashed to `digest`;
    `trace`: the message's trace, which the receipt continues (tracing on only)."""
    body = Receipt(receipt_type=receipt_type, for_message_id=message_id, digest=digest, at=at)
    return compose(
        ctx, kind="receipt", recipients=[to], body=body, correlation_id=message_id, track_delivery=False, trace=trace
    )
