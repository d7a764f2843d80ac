"""Case storage: rows, the append-only timeline, deadlines, and optimistic-concurrency updates.

Every state change goes through `update`, which checks the version it read; a concurrent
change (an operator acknowledging while the timer escalates) makes one side fail cleanly
instead of both writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.clock import utc
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.policy import PlannedDeadline

_TIMES = ("opened_at", "sent_at", "dispatched_at", "acknowledged_at", "resolved_at", "updated_at", "snoozed_until")


class CaseError(Exception):
    """A refused case action; `status` is the HTTP status and `reason` the sentence shown."""

    status = 409

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CaseNotFound(CaseError):
    status = 404


class CaseConflict(CaseError):
    status = 409


@dataclass(frozen=True)
class Case:
    data: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def is_open(self) -> bool:
        return self.data["status"] in t.OPEN_STATUSES


def _case(row: sa.Row[Any]) -> Case:
    data = dict(row._mapping)
    for key in _TIMES:
        if data.get(key) is not None:
            data[key] = utc(data[key])
    return Case(data)


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> Case:
    """Insert a case row; the returned Case is built from the values (no read-back query)."""
    await conn.execute(t.cases.insert().values(**values))
    return Case(dict(values))


async def get(conn: AsyncConnection, case_id: str) -> Case:
    row = (await conn.execute(sa.select(t.cases).where(t.cases.c.case_id == case_id))).first()
    if row is None:
        raise CaseNotFound(f"no case {case_id}")
    return _case(row)


async def update(conn: AsyncConnection, case: Case, now: datetime, **values: Any) -> Case:
    c = t.cases
    result = await conn.execute(
        c.update()
        .where(c.c.case_id == case.case_id, c.c.version == case.version)
        .values(**values, updated_at=now, version=case.version + 1)
    )
    if result.rowcount != 1:
        raise CaseConflict(f"case {case.case_id} was changed by someone else meanwhile; reload it and try again")
    return Case({**case.data, **values, "updated_at": now, "version": case.version + 1})


async def add_event(
    conn: AsyncConnection,
    case_id: str,
    at: datetime,
    actor: str,
    action: str,
    reason: str | None = None,
    **data: Any,
) -> None:
    """Append one audit event (who, when, what, why); the table refuses updates and deletes."""
    await conn.execute(
        t.events.insert().values(case_id=case_id, at=at, actor=actor, action=action, reason=reason, data=data)
    )


async def add_events(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Append several audit events in one statement (intake writes two per case)."""
    await conn.execute(t.events.insert(), [{"reason": None, **row} for row in rows])


async def timeline(conn: AsyncConnection, case_id: str) -> list[dict[str, Any]]:
    e = t.events
    rows = await conn.execute(sa.select(e).where(e.c.case_id == case_id).order_by(e.c.event_id))
    return [{**dict(r._mapping), "at": utc(r.at)} for r in rows]


async def add_deadlines(conn: AsyncConnection, case_id: str, planned: Sequence[PlannedDeadline]) -> None:
    if planned:
        await conn.execute(
            t.deadlines.insert(),
            [
                {"case_id": case_id, "level": p.level, "repeat": p.repeat, "target": p.target,
                 "condition": p.condition, "due_at": p.due_at}
                for p in planned
            ],
        )  # fmt: skip


async def deadlines_of(conn: AsyncConnection, case_id: str) -> list[dict[str, Any]]:
    d = t.deadlines
    rows = await conn.execute(sa.select(d).where(d.c.case_id == case_id).order_by(d.c.due_at, d.c.deadline_id))
    out = []
    for r in rows:
        item = dict(r._mapping)
        for key in ("due_at", "fired_at", "cancelled_at"):
            if item[key] is not None:
                item[key] = utc(item[key])
        out.append(item)
    return out


async def cancel_deadlines(
    conn: AsyncConnection,
    case_id: str,
    now: datetime,
    outcome: str,
    *,
    conditions: Sequence[str] | None = None,
    up_to_level: int | None = None,
) -> int:
    """Cancel pending deadlines of a case (all, by condition, or the levels 1..up_to_level).

    The acknowledgement timeout is level 0: a manual escalation never cancels it.
    """
    d = t.deadlines
    stmt = d.update().where(d.c.case_id == case_id, d.c.fired_at.is_(None), d.c.cancelled_at.is_(None))
    if conditions is not None:
        stmt = stmt.where(d.c.condition.in_(list(conditions)))
    if up_to_level is not None:
        stmt = stmt.where(d.c.level >= 1, d.c.level <= up_to_level, d.c.repeat == 0)
    result = await conn.execute(stmt.values(cancelled_at=now, outcome=outcome[:300]))
    return int(result.rowcount or 0)


async def open_loads(conn: AsyncConnection, operators: Sequence[str] | None = None) -> dict[str, int]:
    """Open cases per assigned operator (the "least-loaded" measure), optionally only for some."""
    c = t.cases
    stmt = sa.select(c.c.assigned_to, sa.func.count()).where(c.c.status.in_(t.OPEN_STATUSES))
    if operators is not None:
        stmt = stmt.where(c.c.assigned_to.in_(list(operators)))
    else:
        stmt = stmt.where(c.c.assigned_to.is_not(None))
    rows = await conn.execute(stmt.group_by(c.c.assigned_to))
    return {r[0]: int(r[1]) for r in rows}


async def find(
    conn: AsyncConnection,
    *,
    status: Sequence[str] | None = None,
    desk: str | None = None,
    assigned_to: str | None = None,
    language: str | None = None,
    priority: str | None = None,
    not_desk: str | None = None,
    limit: int = 200,
) -> list[Case]:
    c = t.cases
    stmt = sa.select(c)
    if status:
        stmt = stmt.where(c.c.status.in_(list(status)))
    if desk is not None:
        stmt = stmt.where(c.c.desk == desk)
    if not_desk is not None:
        stmt = stmt.where(c.c.desk != not_desk)
    if assigned_to is not None:
        stmt = stmt.where(c.c.assigned_to == assigned_to)
    if language is not None:
        stmt = stmt.where(c.c.queue_language == language)
    if priority is not None:
        stmt = stmt.where(c.c.priority == priority)
    # Most urgent first, then oldest first: the order an operator should work them in.
    urgency = sa.case({"critical": 0, "urgent": 1}, value=c.c.priority, else_=2)
    rows = await conn.execute(stmt.order_by(urgency, c.c.opened_at, c.c.case_id).limit(limit))
    return [_case(r) for r in rows]
