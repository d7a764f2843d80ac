"""A receipt changes a delivery only if it matches what this office sent to the office that signed it.

The signature proves who wrote a receipt, not that it is true: a recipient could claim to have
received other bytes, or date its acknowledgement years back; a non-recipient could confirm a
message it never got. Each receipt is checked against the `sent` and `delivery` rows first.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.clock import utc
from interpol_mesh.envelope import MAX_CLOCK_SKEW, Rejected, Verified
from interpol_mesh.messages import Receipt
from interpol_mesh.storage import tables


async def refused_receipts(conn: AsyncConnection, receipts: list[Verified], now: datetime) -> dict[str, Rejected]:
    """The message id of each receipt that does not match, with why (`receipt-mismatch`); two queries per batch."""
    if not receipts:
        return {}
    bodies = [(v, v.body) for v in receipts if isinstance(v.body, Receipt)]
    wanted = {b.for_message_id for _, b in bodies}
    s, d = tables.sent, tables.delivery
    sent_rows = await conn.execute(
        sa.select(s.c.message_id, s.c.digest, s.c.created_at).where(s.c.message_id.in_(wanted))
    )
    sent = {r.message_id: (r.digest, utc(r.created_at)) for r in sent_rows}
    senders = {v.header.sender for v, _ in bodies}
    delivery_rows = await conn.execute(
        sa.select(d.c.message_id, d.c.recipient).where(d.c.message_id.in_(wanted), d.c.recipient.in_(senders))
    )
    addressed = {(r.message_id, r.recipient) for r in delivery_rows}
    refused = {}
    for v, body in bodies:
        problem = _problem(v.header.sender, body, sent, addressed, now)
        if problem is not None:
            mid = v.header.message_id
            refused[mid] = Rejected("receipt-mismatch", problem, message_id=mid)
    return refused


def _problem(
    signer: str,
    receipt: Receipt,
    sent: dict[str, tuple[str, datetime]],
    addressed: set[tuple[str, str]],
    now: datetime,
) -> str | None:
    mid = receipt.for_message_id
    if mid not in sent:
        return f"{receipt.receipt_type} receipt for {mid}, which this office did not send"
    if (mid, signer) not in addressed:
        return f"{signer} is not a recipient of {mid}"
    digest, created_at = sent[mid]
    if receipt.digest != digest:
        return f"digest {receipt.digest[:16]}… is not that of the envelope sent ({digest[:16]}…)"
    if receipt.at < created_at - MAX_CLOCK_SKEW:
        return f"receipt time {receipt.at.isoformat()} is before {mid} was sent ({created_at.isoformat()})"
    if receipt.at > now + MAX_CLOCK_SKEW:
        return f"receipt time {receipt.at.isoformat()} is in the future"
    return None


receipt_problem = _problem  # the pure check, public for conformance replays (interpol_mesh.testing.conformance)
