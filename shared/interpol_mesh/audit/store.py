"""Append audit records inside the caller's transaction, so a record exists iff its fact committed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.audit.chain import chain_hash, record_bytes
from interpol_mesh.audit.model import AuditEvent
from interpol_mesh.audit.tables import HEAD_ID, audit_head, audit_log
from interpol_mesh.clock import utc


class AuditHeadMissing(RuntimeError):
    """The audit_head row is gone: the schema was not migrated, or someone deleted it."""


async def append_events(conn: AsyncConnection, now: datetime, events: Sequence[AuditEvent]) -> None:
    """Chain `events` after the current head, in order, within the caller's open transaction.

    The head row is taken first with `UPDATE ... RETURNING`: PostgreSQL row-locks it and SQLite
    takes the write lock, so concurrent appenders queue instead of forking the chain, and a
    rollback of the caller's transaction gives the sequence numbers back. The lock is held until
    the caller commits: call this last in the transaction to keep that short.
    """
    if not events:
        return
    head = audit_head.c
    taken = (
        await conn.execute(
            sa.update(audit_head)
            .where(head.id == HEAD_ID)
            .values(seq=head.seq + len(events))
            .returning(head.seq, head.hash)
        )
    ).one_or_none()
    if taken is None:
        raise AuditHeadMissing("audit_head row missing: apply the audit_0002 migration")
    prev: str = taken.hash
    first = int(taken.seq) - len(events) + 1
    rows: list[dict[str, Any]] = []
    for seq, event in enumerate(events, start=first):
        values = _values(event, now)
        digest = chain_hash(prev, record_bytes(seq=seq, **values))
        rows.append({"seq": seq, **values, "prev_hash": prev, "hash": digest})
        prev = digest
    await conn.execute(audit_log.insert(), rows)
    await conn.execute(sa.update(audit_head).where(head.id == HEAD_ID).values(hash=prev))


def _values(event: AuditEvent, now: datetime) -> dict[str, Any]:
    """The stored (and hashed) fields; times in UTC because SQLite drops the offset."""
    return {
        "at": utc(event.at or now),
        "event": event.event,
        "message_id": event.message_id,
        "digest": event.digest,
        "sender": event.sender,
        "recipients": list(event.recipients),
        "result": event.result,
        "detail": event.detail,
    }
