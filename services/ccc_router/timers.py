"""Timers from the database: escalation deadlines and follow-the-sun handovers, each fired once.

`fire_due(ctx, now)` is the whole timer: tests move a FakeClock and call it; the background
loop only calls it every second with `ctx.clock.now()`. A deadline is claimed by
`UPDATE ... SET fired_at WHERE fired_at IS NULL AND cancelled_at IS NULL` and acted on only if
that update changed exactly one row, in the same transaction as its effects: two loops, a retry
or a restart can never fire it twice, and a crash before the commit leaves it pending.
A handover is claimed the same way by inserting its boundary time into a unique column.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from interpol_mesh.clock import utc
from interpol_mesh.messaging import OfficeContext
from interpol_mesh.storage import insert_ignoring_duplicates
from interpol_offices.ccc_router import ack_timeout, cases, presence
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.cases import CaseConflict
from interpol_offices.ccc_router.runtime import runtime_of
from interpol_offices.ccc_router.schedule import last_handover, primary_desk
from interpol_offices.ccc_router.workflow import escalate, redispatch

log = logging.getLogger(__name__)
BATCH = 200


@dataclass(frozen=True)
class Fired:
    deadline_id: int
    case_id: str
    level: int
    repeat: int
    outcome: str


async def run_handover(ctx: OfficeContext, now: datetime) -> list[str] | None:
    """Perform the latest desk handover if nobody has yet; returns the moved case ids, or None.

    Open cases not at the incoming desk are re-dispatched through the chain (so they land at the
    incoming desk's queue unless it lacks the language). A CCC that was down across several
    handovers performs only the latest: the cases go straight to the desk on duty now.
    """
    rt = runtime_of(ctx)
    boundary = last_handover(ctx.directory.desks, now)
    h = t.handovers
    async with ctx.engine.connect() as conn:
        done = await conn.scalar(sa.select(h.c.handover_id).where(h.c.boundary_at == boundary))
    if done is not None:
        return None
    desks = ctx.directory.desks
    incoming = primary_desk(desks, boundary).id
    outgoing = primary_desk(desks, boundary - timedelta(seconds=1)).id
    async with ctx.transaction() as uow:
        conn = uow.conn
        claimed = await conn.execute(
            insert_ignoring_duplicates(h, conn.dialect.name).values(
                boundary_at=boundary, from_desk=outgoing, to_desk=incoming, performed_at=now, moved=[]
            )
        )
        if claimed.rowcount != 1:
            return None
        moved: list[str] = []
        for case in await cases.find(conn, status=t.OPEN_STATUSES, not_desk=incoming, limit=10_000):
            if case.kind == presence.GAP_KIND:
                continue  # a warning for supervisors: check_gaps hands it to the incoming duty officer
            after = await redispatch(
                uow, rt, case, actor="system", action="handover",
                reason=f"shift handover {outgoing} -> {incoming} at {boundary.isoformat()}",
            )  # fmt: skip
            if after.version != case.version:
                moved.append(case.case_id)
        await conn.execute(h.update().where(h.c.boundary_at == boundary).values(moved=moved))
    if moved:
        log.info("handover", extra={"from": outgoing, "to": incoming, "moved": len(moved)})
    return moved


async def _fire_one(ctx: OfficeContext, deadline: sa.Row[object], now: datetime) -> Fired | None:
    rt = runtime_of(ctx)
    d = t.deadlines
    async with ctx.transaction() as uow:
        conn = uow.conn
        # The case row first, then its deadline: the order every operator action takes (update the
        # case, then cancel or plan deadlines), so the timer and an acknowledge never deadlock on
        # PostgreSQL (SQLite writes are serial and renders no FOR UPDATE).
        c = t.cases
        await conn.execute(sa.select(c.c.case_id).where(c.c.case_id == deadline.case_id).with_for_update())
        claimed = await conn.execute(
            d.update()
            .where(d.c.deadline_id == deadline.deadline_id, d.c.fired_at.is_(None), d.c.cancelled_at.is_(None))
            .values(fired_at=now)
        )
        if claimed.rowcount != 1:
            return None  # fired or cancelled by someone else first
        case = await cases.get(conn, deadline.case_id)
        level, repeat = int(deadline.level), int(deadline.repeat)
        if deadline.condition == ack_timeout.CONDITION:  # acknowledged but not resolved in time: re-trigger
            outcome = await ack_timeout.retrigger(uow, rt, case, now, (now - utc(deadline.due_at)).total_seconds())
        elif not case.is_open or (deadline.condition == "if-not-acked" and case.status != "dispatched"):
            outcome = f"not needed: case is {case.status}"
        elif repeat == 0 and case.escalation_level >= level:
            outcome = f"not needed: case already at level {case.escalation_level}"
        else:
            late = (now - utc(deadline.due_at)).total_seconds()
            why = f"not acknowledged within the {case.priority} policy (level {level})"
            if repeat:
                why = f"still not acknowledged: repeat {repeat} of level {level}"
            if late > 60:
                why += f"; fired {int(late)} s after its due time (CCC was not running)"
            if (level, repeat, deadline.condition) == (1, 0, "if-not-acked") and case.assigned_to:
                await presence.on_assignment_timed_out(uow, rt, case, now, utc(deadline.due_at))  # before it moves
            await escalate(uow, rt, case, level=level, actor="system", reason=why, repeat=repeat)
            if rt.metrics is not None:
                rt.metrics.escalation_fired(uow, case)
            outcome = f"escalated to level {level}" + (f" (repeat {repeat})" if repeat else "")
        await conn.execute(d.update().where(d.c.deadline_id == deadline.deadline_id).values(outcome=outcome[:300]))
    return Fired(int(deadline.deadline_id), deadline.case_id, level, repeat, outcome)


async def fire_due(ctx: OfficeContext, now: datetime | None = None) -> list[Fired]:
    """Perform a due handover, warn of presence gaps, give out waiting cases, then fire every deadline
    due at `now`, oldest first, each once. A failing presence step is logged and skipped: deadlines fire."""
    now = now or ctx.clock.now()
    await run_handover(ctx, now)
    # After the handover, so the desk on duty now gets the warning and the waiting cases.
    for what, step in (("gap check", presence.check_gaps), ("waiting-case dispatch", presence.dispatch_waiting)):
        try:
            await step(ctx, now)
        except Exception:
            log.exception("CCC %s failed; deadlines fire anyway", what)
    d = t.deadlines
    fired: list[Fired] = []
    while True:
        async with ctx.engine.connect() as conn:
            due = list(
                await conn.execute(
                    sa.select(d)
                    .where(d.c.fired_at.is_(None), d.c.cancelled_at.is_(None), d.c.due_at <= now)
                    .order_by(d.c.due_at, d.c.deadline_id)
                    .limit(BATCH)
                )
            )
        progressed = False
        for row in due:
            try:
                result = await _fire_one(ctx, row, now)
            except CaseConflict:
                continue  # an operator changed the case at this instant; retried on the next tick
            if result is not None:
                fired.append(result)
                progressed = True
        if len(due) < BATCH or not progressed:
            return fired


async def timer_loop(ctx: OfficeContext) -> None:
    """Background task: the injected clock decides what is due; this only sets the pace."""
    rt = runtime_of(ctx)
    while True:
        try:
            await fire_due(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("CCC timer tick failed; retrying")
        await asyncio.sleep(rt.poll_seconds)
