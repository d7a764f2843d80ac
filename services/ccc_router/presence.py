"""Operator presence: available, busy, away, offline; set by the operator or a colleague, or inferred.

The roster says who *should* be there; presence says who *is*. Dispatch gives new cases only to
`available` operators on shift; `busy` operators are present (they keep their cases and count for
coverage) but take nothing new; `away` and `offline` are absent, and going absent moves every open
case the operator holds to a present colleague with the case language (`workflow.redispatch`).
An operator who lets an assigned case time out (its first `if-not-acked` deadline fires while it
is still theirs and unacknowledged) is marked `away` by the system, as PagerDuty and Opsgenie do.

A state set before the operator's current shift began has lapsed: starting a shift is signing in,
so an operator on shift with no current state is `available`. Every change is appended to
`ccc_presence_changes` with who, why and the cases moved.

When a language has nobody present at the current hour, the CCC warns the on-duty desk's duty
officer with a `presence-gap` case (one open case per language, resolved by the system when
someone with the language is present again), so the warning escalates like any case if unseen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.messaging import OfficeContext, UnitOfWork
from interpol_offices.ccc_router.cases import Case
from interpol_offices.ccc_router.runtime import CccRuntime
from interpol_offices.ccc_router.schedule import Duty

State = Literal["available", "busy", "away", "offline"]
Source = Literal["operator", "colleague", "inferred"]
STATES: tuple[State, ...] = ("available", "busy", "away", "offline")
PRESENT: tuple[State, ...] = ("available", "busy")


async def states_now(conn: AsyncConnection, on_shift: Sequence[Duty]) -> dict[str, State]:
    """Each on-shift operator's state now (lapsed or missing states read as `available`)."""
    raise NotImplementedError


async def dispatchable(conn: AsyncConnection, on_shift: Sequence[Duty]) -> list[Duty]:
    """The on-shift duties whose operator is `available` (roster order kept): who dispatch may pick."""
    raise NotImplementedError


async def set_state(
    uow: UnitOfWork, rt: CccRuntime, operator_id: str, state: State, *, source: Source, set_by: str, reason: str | None
) -> list[str]:
    """Record a change; going away or offline re-dispatches the operator's open cases. Returns their ids."""
    raise NotImplementedError


async def on_assignment_timed_out(uow: UnitOfWork, rt: CccRuntime, case: Case, now: datetime) -> None:
    """Called when a case's first if-not-acked deadline fires while `case.assigned_to` still holds it
    unacknowledged (before the escalation changes the assignee): marks that operator away."""
    raise NotImplementedError


async def check_gaps(ctx: OfficeContext, now: datetime) -> None:
    """Open (once) or resolve the `presence-gap` case of each language; called on every timer tick."""
    raise NotImplementedError
