"""Acknowledged is not resolved: the acknowledgement timeout, and snoozing with a reason.

An acknowledged case that is not resolved within its policy's `ack_timeout_minutes` re-triggers
(PagerDuty's "acknowledgement timeout"): it returns to `dispatched`, its assignee and the
involved offices are told, and its `if-not-acked` escalation levels are planned again from that
moment. Snoozing an acknowledged case moves that re-trigger to a time the operator chooses, with
a reason. Both are ordinary deadline rows (condition `ack-timeout`), so the timer fires each
exactly once, also across a CCC restart (timers.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.messaging import UnitOfWork
from interpol_offices.ccc_router.cases import Case
from interpol_offices.ccc_router.roster import Operator
from interpol_offices.ccc_router.runtime import CccRuntime

CONDITION = "ack-timeout"


async def plan_after_ack(conn: AsyncConnection, case: Case, now: datetime) -> datetime | None:
    """Insert the case's ack-timeout deadline (its snapshot's `ack_timeout_minutes`), if it has one."""
    raise NotImplementedError


async def snooze(uow: UnitOfWork, case: Case, actor: Operator, minutes: int, reason: str) -> Case:
    """Move an acknowledged case's re-trigger to now + minutes (bounded by the policy), recorded."""
    raise NotImplementedError


async def retrigger(uow: UnitOfWork, rt: CccRuntime, case: Case, now: datetime, late_seconds: float) -> str:
    """The ack-timeout deadline fired on a case still acknowledged: re-trigger it; returns the outcome."""
    raise NotImplementedError
