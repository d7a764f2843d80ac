"""Acknowledged is not resolved: the acknowledgement timeout, and snoozing with a reason.

An acknowledged case that is not resolved within its policy's `ack_timeout_minutes` re-triggers
(PagerDuty's "acknowledgement timeout"): it returns to `dispatched`, its assignee and the
involved offices are told, and its `if-not-acked` escalation levels are planned again from that
moment. Snoozing an acknowledged case moves that re-trigger to a time the operator chooses, with
a reason. Both are ordinary deadline rows (condition `ack-timeout`), so the timer fires each
exactly once, also across a CCC restart (timers.py).

The row keeps the *current* acknowledgement only: a re-trigger clears `acknowledged_*` (the case
is back in the queue, and the SLA figures count it as waiting again) and keeps who acknowledged it
and when in its `ack-timed-out` event, next to the earlier `acknowledged` event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.messaging import UnitOfWork
from interpol_offices.ccc_router import cases, presence
from interpol_offices.ccc_router.cases import Case, CaseConflict, CaseError
from interpol_offices.ccc_router.notify import tell_offices
from interpol_offices.ccc_router.policy import PlannedDeadline, Policy, plan
from interpol_offices.ccc_router.roster import Operator
from interpol_offices.ccc_router.runtime import CccRuntime

CONDITION: Final = "ack-timeout"


class SnoozeRefused(CaseError):
    """A snooze longer than the case's policy allows: an invalid value, not a state conflict."""

    status = 422


def _minutes(case: Case, key: str) -> int | None:
    value = case.policy.get(key)
    return int(value) if value else None


async def _plan_at(conn: AsyncConnection, case: Case, due: datetime) -> None:
    # Level 0: not an escalation level, so "already at level N" never skips it and a manual
    # escalation (which cancels levels 1..N) leaves it standing.
    await cases.add_deadlines(conn, case.case_id, [PlannedDeadline(0, 0, due, "assignee", CONDITION)])


async def plan_after_ack(conn: AsyncConnection, case: Case, now: datetime) -> datetime | None:
    """Insert the case's ack-timeout deadline (its snapshot's `ack_timeout_minutes`), if it has one.

    Any ack-timeout still pending is cancelled first, so a case has at most one.
    """
    minutes = _minutes(case, "ack_timeout_minutes")
    if minutes is None:
        return None
    await cases.cancel_deadlines(conn, case.case_id, now, "cancelled: replaced by a new acknowledgement timeout",
                                 conditions=[CONDITION])  # fmt: skip
    due = now + timedelta(minutes=minutes)
    await _plan_at(conn, case, due)
    return due


async def snooze(uow: UnitOfWork, case: Case, actor: Operator, minutes: int, reason: str) -> Case:
    """Move an acknowledged case's re-trigger to now + minutes (bounded by the policy), recorded."""
    conn, now = uow.conn, uow.ctx.clock.now()
    if case.status != "acknowledged":
        what = "acknowledge it first" if case.status == "dispatched" else "nothing to snooze"
        raise CaseConflict(f"case {case.case_id} is {case.status}; only an acknowledged case can be snoozed ({what})")
    longest = _minutes(case, "max_snooze_minutes")
    if longest is None:
        raise CaseConflict(f"case {case.case_id}'s {case.priority} policy has no acknowledgement timeout to snooze")
    if not 1 <= minutes <= longest:
        raise SnoozeRefused(
            f"minutes must be 1..{longest} for a {case.priority} case (its policy's max_snooze_minutes)"
        )
    until = now + timedelta(minutes=minutes)
    updated = await cases.update(conn, case, now, snoozed_until=until)  # the case row first, as timers.py locks
    stopped = await cases.cancel_deadlines(
        conn, case.case_id, now, f"cancelled: snoozed by {actor.id} until {until.isoformat()}", conditions=[CONDITION]
    )
    await _plan_at(conn, updated, until)
    await cases.add_event(
        conn, case.case_id, now, actor.id, "snoozed", reason, until=until.isoformat(), minutes=minutes,
        deadlines_cancelled=stopped,
    )  # fmt: skip
    return updated


async def retrigger(uow: UnitOfWork, rt: CccRuntime, case: Case, now: datetime, late_seconds: float) -> str:
    """The ack-timeout deadline fired on a case still acknowledged: re-trigger it; returns the outcome."""
    if case.status != "acknowledged":
        return f"not needed: case is {case.status}"
    conn = uow.conn
    if case.snoozed_until is not None:
        why = f"snooze until {case.snoozed_until.isoformat()} ended and the case is still not resolved"
    else:
        why = (
            f"acknowledged by {case.acknowledged_by} at {case.acknowledged_at.isoformat()} and not resolved within "
            f"the {case.priority} policy's {_minutes(case, 'ack_timeout_minutes')} min acknowledgement timeout"
        )
    if late_seconds > 60:
        why += f"; fired {int(late_seconds)} s after its due time (CCC was not running)"
    updated = await cases.update(
        conn, case, now, status="dispatched", acknowledged_at=None, acknowledged_by=None, acknowledged_desk=None,
        snoozed_until=None, escalation_level=0, escalated_to=None,
    )  # fmt: skip
    policy = Policy.model_validate(case.policy)
    again = [p for p in plan(policy, now, uow.ctx.directory.desks) if p.condition == "if-not-acked"]
    await cases.add_deadlines(conn, case.case_id, again)
    offices = case.involved if case.policy.get("notify_involved", True) else []
    sent = await tell_offices(uow, updated, "ack-timed-out", offices=offices, reason=why)
    await cases.add_event(
        conn, case.case_id, now, "system", "ack-timed-out", why, acknowledged_by=case.acknowledged_by,
        acknowledged_at=case.acknowledged_at.isoformat(), snoozed_until=case.snoozed_until and case.snoozed_until.isoformat(),
        previous_level=case.escalation_level, deadlines_planned=len(again), assigned_to=case.assigned_to, notified=sent,
    )  # fmt: skip
    outcome = f"re-triggered: back to dispatched, {len(again)} deadlines planned"
    holder = case.assigned_to
    if holder is not None:
        available = {d.operator.id for d in await presence.dispatchable(conn, rt.on_shift(now))}
        if holder not in available:
            # Back in the queue of someone off shift, busy, away or offline is in nobody's queue.
            from interpol_offices.ccc_router import workflow  # workflow imports this module

            moved = await workflow.redispatch(
                uow, rt, updated, actor="system", action="redispatched",
                reason=f"re-triggered after the acknowledgement timeout; its assignee {holder} is not available "
                "now (off shift, or not present)",
            )  # fmt: skip
            outcome += f"; redispatched from {holder} to {moved.assigned_to or 'the desk queue'}"
    return outcome
