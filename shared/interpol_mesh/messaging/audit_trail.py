"""Collect audit events during a transaction and chain them just before it commits.

`send()` and the inbox consumer only `record`; `OfficeContext.transaction()` appends the
collected events last, so the audit head lock is held for the shortest time and a rolled-back
transaction leaves no audit record behind.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.audit import AuditEvent, append_events

_PENDING = "interpol_mesh.audit.pending"


def record(conn: AsyncConnection, event: AuditEvent) -> None:
    conn.info.setdefault(_PENDING, []).append(event)


async def flush(conn: AsyncConnection, now: datetime) -> None:
    events = conn.info.pop(_PENDING, [])
    await append_events(conn, now, events)


def discard(conn: AsyncConnection) -> None:
    try:
        conn.info.pop(_PENDING, None)
    except Exception:  # the connection is already invalid (cancelled mid-transaction): nothing to keep
        pass
