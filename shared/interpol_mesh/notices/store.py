"""SQL for the `notices` and `notice_history` tables, the same at the GS and at every NCB.

Status changes are conditional updates (`WHERE status = <expected>`): when two reviewers decide
the same notice at once, exactly one update matches and the other gets InvalidTransition, before
anything is sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.envelope import Verified
from interpol_mesh.messages import NoticeRequest
from interpol_mesh.notices.screening import Screening
from interpol_mesh.notices.status import InvalidTransition, check_transition
from interpol_mesh.notices.views import NoticeDetail, NoticePage, NoticeSummary, Signature, detail_of, summary_fields
from interpol_mesh.storage import tables

if TYPE_CHECKING:  # the read rule is the API's; the store only applies the one it is given
    from interpol_mesh.notices.access import Reader

n, h = tables.notices, tables.notice_history


async def insert_notice(
    conn: AsyncConnection,
    *,
    notice_id: str,
    request: NoticeRequest,
    status: str,
    now: datetime,
    screening: Screening | None = None,
    **values: Any,
) -> None:
    """Store a notice; `values` sets optional columns (published_at, expires_at, decision_reason...)."""
    await conn.execute(
        n.insert().values(
            notice_id=notice_id,
            status=status,
            screening=screening.model_dump(mode="json") if screening is not None else {},
            created_at=now,
            updated_at=now,
            **request_columns(request),
            **values,
        )
    )


def request_columns(request: NoticeRequest) -> dict[str, Any]:
    """The columns that copy the request itself (rewritten when the GS sends an update)."""
    return {
        "notice_type": request.notice_type,
        "requesting_office": request.requesting_office,
        "title": request.title,
        "request": request.model_dump(mode="json"),
        "distribution": request.distribution.model_dump(mode="json"),
    }


async def get_notice(conn: AsyncConnection, notice_id: str) -> Any:
    return (await conn.execute(sa.select(n).where(n.c.notice_id == notice_id))).first()


async def transition(
    conn: AsyncConnection, notice_id: str, *, current: str, status: str, now: datetime, **values: Any
) -> None:
    """Move a notice from `current` to `status`; raises InvalidTransition if it was not (or no longer) `current`."""
    check_transition(notice_id, current, status)
    result = await conn.execute(
        n.update()
        .where(n.c.notice_id == notice_id, n.c.status == current)
        .values(status=status, updated_at=now, **values)
    )
    if result.rowcount != 1:
        row = await get_notice(conn, notice_id)
        raise InvalidTransition(notice_id, row.status if row is not None else "absent", status)


async def update_copy(conn: AsyncConnection, notice_id: str, *, now: datetime, **values: Any) -> None:
    """Unconditional update of an office's copy (NCB side, where GS events are authoritative)."""
    await conn.execute(n.update().where(n.c.notice_id == notice_id).values(updated_at=now, **values))


async def record(
    conn: AsyncConnection,
    notice_id: str,
    *,
    action: str,
    status: str,
    at: datetime,
    actor: str | None = None,
    reason: str | None = None,
    message_id: str | None = None,
    signers: list[Signature] | None = None,
) -> None:
    """One history entry; `signers` are the signatures of the message it records (requester, publisher)."""
    await conn.execute(
        h.insert().values(
            notice_id=notice_id, at=at, action=action, status=status, actor=actor, reason=reason, message_id=message_id,
            signers=[s.model_dump() for s in signers] if signers is not None else None,
        )
    )  # fmt: skip


def signers_of(verified: Verified, role: str) -> list[Signature]:
    """The signatures a verified message carried: its co-signers (the requester), then its sender in `role`."""
    inner = [{"office_id": c.office_id, "key_id": c.key_id, "role": c.role} for c in verified.cosigners]
    outer = {"office_id": verified.header.sender, "key_id": verified.key_id, "role": role}
    return [Signature.model_validate(s) for s in [*inner, outer]]


async def history_message(conn: AsyncConnection, notice_id: str, action: str) -> str | None:
    """The message id recorded with the first `action` entry (e.g. the published event)."""
    query = sa.select(h.c.message_id).where(h.c.notice_id == notice_id, h.c.action == action).order_by(h.c.id).limit(1)
    return (await conn.execute(query)).scalar()


async def detail(conn: AsyncConnection, notice_id: str, reader: Reader) -> NoticeDetail | None:
    """None both when there is no such notice and when `reader` may not read it: the caller cannot tell which."""
    row = await get_notice(conn, notice_id)
    if row is None or not reader.may_read(row):
        return None
    history = (await conn.execute(sa.select(h).where(h.c.notice_id == notice_id).order_by(h.c.id))).all()
    return reader.shown(detail_of(row, list(history)))


async def list_notices(
    conn: AsyncConnection,
    *,
    reader: Reader,
    notice_type: str | None = None,
    status: str | None = None,
    requesting_office: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> NoticePage:
    """Newest first, keyset-paged by notice id (the request's time-ordered message id).

    Only notices `reader` may read are counted, before paging: a page is short only at the end,
    and the cursor is always a notice the reader saw.
    """
    query = sa.select(n).order_by(n.c.notice_id.desc()).limit(limit + 1)
    if notice_type:
        query = query.where(n.c.notice_type == notice_type)
    if status:
        query = query.where(n.c.status == status)
    if requesting_office:
        query = query.where(n.c.requesting_office == requesting_office)
    where = reader.where()
    if where is not None:
        query = query.where(where)
    shown: list[Any] = []
    after, more = cursor, False
    while not more:
        rows = (await conn.execute(query.where(n.c.notice_id < after) if after else query)).all()
        for row in rows:
            if reader.may_read(row):
                more = len(shown) == limit
                if more:
                    break
                shown.append(row)
        if len(rows) <= limit:
            break
        after = rows[-1].notice_id
    items = [NoticeSummary(**summary_fields(r)) for r in shown]
    return NoticePage(items=items, next_cursor=items[-1].notice_id if more else None)


async def pending_review(
    conn: AsyncConnection, *, notice_type: str | None, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    """Oldest request first: the review clock runs from when the NCB submitted it."""
    query = sa.select(n).where(n.c.status == "pending-review").order_by(n.c.notice_id).limit(limit + 1)
    if notice_type:
        query = query.where(n.c.notice_type == notice_type)
    if cursor:
        query = query.where(n.c.notice_id > cursor)
    rows = list((await conn.execute(query)).all())
    return rows[:limit], rows[limit - 1].notice_id if len(rows) > limit else None


async def expire_due(conn: AsyncConnection, now: datetime) -> list[str]:
    """Mark published notices whose retention period ended as expired; returns their ids.

    Each office runs this on its own copy with its own clock: the expiry date travels in the
    published event, so no message is needed when it passes.
    """
    due = (
        (
            await conn.execute(
                sa.select(n.c.notice_id).where(n.c.status == "published", n.c.expires_at <= now).order_by(n.c.notice_id)
            )
        )
        .scalars()
        .all()
    )
    expired = []
    for notice_id in due:
        result = await conn.execute(
            n.update()
            .where(n.c.notice_id == notice_id, n.c.status == "published")
            .values(status="expired", updated_at=now)
        )
        if result.rowcount == 1:
            expired.append(notice_id)
            await record(conn, notice_id, action="expired", status="expired", at=now, actor="retention")
    return expired
