"""Operator presence: available, busy, away, offline; set by the operator or a colleague, or inferred.

The roster says who *should* be there; presence says who *is*. Dispatch gives new cases only to
`available` operators on shift; `busy` operators are present (they keep their cases and count for
the gap warning) but take nothing new; `away` and `offline` are absent, and going absent moves every open
case the operator holds to a present colleague with the case language (`workflow.redispatch`).
An operator who lets an assigned case time out (its first `if-not-acked` deadline fires while it
is still theirs and unacknowledged) is marked `away` by the system, as PagerDuty and Opsgenie do.
Becoming `available` (or a shift starting, seen by the timer tick) gives out the cases waiting
unassigned in the default queue, so no case waits while someone who can take it is free.

On PostgreSQL a change of presence and a dispatch to that operator exclude each other: the change
takes the operator's presence lock exclusively, a dispatch takes it shared (without waiting) and
re-reads the state, so a case never lands with someone in the instant they go away.

A state set before the operator's current shift began has lapsed: starting a shift is signing in,
so an operator on shift with no current state is `available`. Every change is appended to
`ccc_presence_changes` with who, why and the cases moved.

When a language has nobody present at the current hour, the CCC warns the on-duty desk's duty
officer with a `presence-gap` case (one open case per language, resolved by the system when
someone with the language is present again), so the warning escalates like any case if unseen.
The language of a gap case is its subject row `presence-gap:<lang>` in `ccc_case_subjects`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.clock import utc
from interpol_mesh.directory import OFFICIAL_LANGUAGES, Language
from interpol_mesh.ids import new_message_id
from interpol_mesh.messaging import OfficeContext, UnitOfWork
from interpol_mesh.storage import insert_ignoring_duplicates
from interpol_offices.ccc_router import cases, language
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.cases import Case, CaseConflict
from interpol_offices.ccc_router.dispatch import dispatch
from interpol_offices.ccc_router.policy import plan, snapshot
from interpol_offices.ccc_router.runtime import CccRuntime, runtime_of
from interpol_offices.ccc_router.schedule import Duty

log = logging.getLogger(__name__)
State = Literal["available", "busy", "away", "offline"]
Source = Literal["operator", "colleague", "inferred"]
STATES: tuple[State, ...] = ("available", "busy", "away", "offline")
PRESENT: tuple[State, ...] = ("available", "busy")
GAP_KIND = "presence-gap"
GAP_PRIORITY = "urgent"  # pages the duty officer again, then the head of desk, if nobody looks
# Two timer loops (or a test's fire_due and the background loop) must not both open a language's
# gap case: on PostgreSQL the gap transaction takes this transaction-scoped advisory lock first.
GAP_LOCK = 0x_CCC_0015
# An operator's presence lock on PostgreSQL: pg_advisory_xact_lock(PRESENCE_LOCK, hashtext(id)).
# An advisory lock rather than the ccc_presence row, because an operator who never set a state has
# no row to lock. A hash collision only makes two operators' changes wait for each other.
PRESENCE_LOCK = 0x_CCC_0016
WAITING_BATCH = 50  # waiting cases given out per change to available, and per timer tick
GAP_SUBJECTS = tuple(f"{GAP_KIND}:{lang}" for lang in OFFICIAL_LANGUAGES)


@dataclass(frozen=True)
class Presence:
    """An operator's state as it stands: `source` is "shift" when nobody set it this shift."""

    state: State
    since: datetime
    source: str
    set_by: str | None
    reason: str | None


def gap_subject(lang: str) -> str:
    return f"{GAP_KIND}:{lang}"


async def _rows(conn: AsyncConnection, operator_ids: Collection[str]) -> dict[str, sa.Row[Any]]:
    if not operator_ids:
        return {}
    p = t.presence
    rows = await conn.execute(sa.select(p).where(p.c.operator_id.in_(list(operator_ids))))
    return {r.operator_id: r for r in rows}


async def presence_of(conn: AsyncConnection, on_shift: Sequence[Duty]) -> dict[str, Presence]:
    """Each on-shift operator's presence; a state set before their current duty began has lapsed."""
    rows = await _rows(conn, [d.operator.id for d in on_shift])
    out: dict[str, Presence] = {}
    for duty in on_shift:
        row = rows.get(duty.operator.id)
        if row is None or utc(row.since) < duty.start:
            out[duty.operator.id] = Presence("available", duty.start, "shift", None, None)
        else:
            out[duty.operator.id] = Presence(row.state, utc(row.since), row.source, row.set_by, row.reason)
    return out


async def states_now(conn: AsyncConnection, on_shift: Sequence[Duty]) -> dict[str, State]:
    """Each on-shift operator's state now (lapsed or missing states read as `available`)."""
    return {k: v.state for k, v in (await presence_of(conn, on_shift)).items()}


async def dispatchable(conn: AsyncConnection, on_shift: Sequence[Duty]) -> list[Duty]:
    """The on-shift duties whose operator is `available` (roster order kept): who dispatch may pick."""
    states = await states_now(conn, on_shift)
    return [d for d in on_shift if states[d.operator.id] == "available"]


async def _lock_for_change(conn: AsyncConnection, operator_id: str, *, wait: bool = True) -> bool:
    """Take the operator's presence lock exclusively (PostgreSQL; SQLite's writes are serial already):
    waits for the dispatches holding it to commit, so their cases are seen and moved. With
    `wait=False` only tries, and says whether it got it: the timer, which holds a case row
    already, must never wait here (the holder's own change may be moving that very row)."""
    if conn.dialect.name != "postgresql":
        return True
    fn = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    got = await conn.scalar(sa.text(f"SELECT {fn}(:ns, hashtext(:op))"), {"ns": PRESENCE_LOCK, "op": operator_id})
    return wait or bool(got)


async def hold(conn: AsyncConnection, duty: Duty) -> bool:
    """May a new case go to `duty`'s operator? Called by dispatch after the chain chose them.

    On PostgreSQL, takes their presence lock shared without waiting (a change under way: False,
    dispatch picks someone else; never waiting means two operators going away at once cannot
    deadlock on each other's cases), then re-reads the state, which a change committed since
    dispatch read it may have made absent. The lock is held to the commit, so a change that
    starts now waits and then moves this case. SQLite: the transaction is the only writer; True.
    """
    if conn.dialect.name != "postgresql":
        return True
    got = await conn.scalar(
        sa.text("SELECT pg_try_advisory_xact_lock_shared(:ns, hashtext(:op))"),
        {"ns": PRESENCE_LOCK, "op": duty.operator.id},
    )
    return bool(got) and (await states_now(conn, [duty]))[duty.operator.id] == "available"


async def _current_state(conn: AsyncConnection, rt: CccRuntime, operator_id: str, now: datetime) -> State:
    duty = next((d for d in rt.on_shift(now) if d.operator.id == operator_id), None)
    if duty is None:
        row = (await _rows(conn, [operator_id])).get(operator_id)
        return "available" if row is None else row.state  # off shift: the last state set, until a shift starts
    return (await states_now(conn, [duty]))[operator_id]


async def _change(
    uow: UnitOfWork,
    rt: CccRuntime,
    operator_id: str,
    state: State,
    *,
    source: Source,
    set_by: str,
    reason: str | None,
    keep: Collection[str] = (),
) -> list[str]:
    """Write the state and its change row; an absent state moves the open cases (except `keep`),
    `available` gives out the waiting cases. Under the operator's presence lock (`_lock_for_change`)."""
    from interpol_offices.ccc_router.workflow import redispatch  # workflow imports this module

    conn, now = uow.conn, uow.ctx.clock.now()
    await _lock_for_change(conn, operator_id)
    previous = await _current_state(conn, rt, operator_id, now)
    p = t.presence
    values = {"state": state, "since": now, "source": source, "set_by": set_by, "reason": reason}
    # Insert, else update: the first two changes of one operator at once never both insert.
    inserted = await conn.execute(
        insert_ignoring_duplicates(p, conn.dialect.name).values(operator_id=operator_id, **values)
    )
    if inserted.rowcount != 1:
        await conn.execute(p.update().where(p.c.operator_id == operator_id).values(**values))
    moved: list[dict[str, Any]] = []
    given: list[str] = []
    if state not in PRESENT:
        why = f"{operator_id} is {state}" + (f": {reason}" if reason else "")
        for case in await cases.find(conn, status=t.OPEN_STATUSES, assigned_to=operator_id, limit=10_000):
            if case.case_id in keep or case.kind == GAP_KIND:
                continue  # a gap warning stays with its duty officer; its escalation pages the next level
            after = await redispatch(uow, rt, case, actor=set_by, action="presence-moved", reason=why)
            moved.append({"case_id": case.case_id, "to_desk": after.desk, "to_operator": after.assigned_to})
    elif state == "available":
        why = f"{operator_id} is available" + (f": {reason}" if reason else "")
        given = await _give_out(uow, rt, await _waiting(conn), actor=set_by, reason=why)
    data: dict[str, Any] = {"moved": moved, **({"dispatched": given} if given else {})}
    await conn.execute(
        t.presence_changes.insert().values(
            operator_id=operator_id, at=now, state=state, previous=previous, source=source, set_by=set_by,
            reason=reason, data=data,
        )
    )  # fmt: skip
    return [m["case_id"] for m in moved]


async def set_state(
    uow: UnitOfWork, rt: CccRuntime, operator_id: str, state: State, *, source: Source, set_by: str, reason: str | None
) -> list[str]:
    """Record a change; going away or offline re-dispatches the operator's open cases. Returns their ids."""
    return await _change(uow, rt, operator_id, state, source=source, set_by=set_by, reason=reason)


async def _waiting(conn: AsyncConnection, limit: int = WAITING_BATCH) -> list[tuple[str, str]]:
    """(case id, language) of the open cases nobody holds (the default queue), most urgent then
    oldest first; one query on the (assigned_to, status) index. Gap warnings are not among them."""
    c = t.cases
    urgency = sa.case({"critical": 0, "urgent": 1}, value=c.c.priority, else_=2)
    rows = await conn.execute(
        sa.select(c.c.case_id, c.c.language)
        .where(c.c.assigned_to.is_(None), c.c.status.in_(t.OPEN_STATUSES), c.c.kind != GAP_KIND)
        .order_by(urgency, c.c.opened_at, c.c.case_id)
        .limit(limit)
    )
    return [(r.case_id, r.language) for r in rows]


async def _give_out(uow: UnitOfWork, rt: CccRuntime, waiting: Sequence[tuple[str, str]], *, actor: str,
                    reason: str) -> list[str]:  # fmt: skip
    """Run the chain again for each waiting case (`dispatched-from-queue`), keeping it where it is
    when nobody can take it; max_open_cases holds as in any dispatch. Returns the ids given out."""
    from interpol_offices.ccc_router.workflow import redispatch  # workflow imports this module

    given: list[str] = []
    for case_id, _ in waiting:
        case = await cases.get(uow.conn, case_id)
        if not case.is_open or case.assigned_to is not None:
            continue
        try:
            after = await redispatch(
                uow, rt, case, actor=actor, action="dispatched-from-queue", reason=reason, require_operator=True
            )
        except CaseConflict:
            continue  # changed at this instant (a link, an operator): its version check wrote nothing; next tick
        if after.assigned_to is not None:
            given.append(case_id)
    return given


async def dispatch_waiting(ctx: OfficeContext, now: datetime) -> list[str]:
    """Timer tick: give out the cases waiting unassigned if the chain now finds someone for them
    (a shift started, which no presence change announces). Cheap when nothing waits: one indexed
    query. The chain is tried first on a read connection, so a tick where nobody can take any of
    them writes nothing; at most WAITING_BATCH per tick."""
    rt = runtime_of(ctx)
    async with ctx.engine.connect() as conn:
        on = await dispatchable(conn, rt.on_shift(now))
        if not on:
            return []  # nobody can take anything: no need to sort the queue
        waiting = await _waiting(conn)
        if not waiting:
            return []
        loads = dict(await cases.open_loads(conn, [d.operator.id for d in on]))
    primary, takeable = rt.primary_desk(now), []
    for case_id, lang in waiting:
        decision = dispatch(cast(Language, lang), primary, on, loads, rt.dispatch_chain)
        if decision.operator is not None:
            loads[decision.operator] = loads.get(decision.operator, 0) + 1
            takeable.append((case_id, lang))
    if not takeable:
        return []
    try:
        async with ctx.transaction() as uow:
            return await _give_out(
                uow, rt, takeable, actor="system", reason="waiting unassigned; someone who can take it is available now"
            )
    except CaseConflict:
        return []  # someone acted on one of them at this instant; the next tick looks again


async def _held_since(conn: AsyncConnection, case: Case) -> datetime:
    """When the case last reached its assignee (dispatch, move, reassignment or claim)."""
    e = t.events
    rows = await conn.execute(sa.select(e).where(e.c.case_id == case.case_id).order_by(e.c.event_id.desc()))
    for row in rows:
        data = row.data or {}
        if data.get("operator") == case.assigned_to or (row.action == "claimed" and row.actor == case.assigned_to):
            return utc(row.at)
    return utc(case.opened_at)


async def on_assignment_timed_out(
    uow: UnitOfWork, rt: CccRuntime, case: Case, now: datetime, due_at: datetime | None = None
) -> None:
    """Called when a case's first if-not-acked deadline (due at `due_at`, default `now`) fires while
    `case.assigned_to` still holds it unacknowledged (before the escalation changes the assignee):
    marks that operator away.

    Only a dispatch-role operator on shift who held the case for at least half of its window (from
    the case's opening to the deadline's due time) before it was due is blamed: a case moved to a
    colleague a minute before its deadline (their peer went away) must not mark the colleague away
    too, or one absence would cascade through the desk; measuring to the due time, not to `now`,
    keeps that true when the deadline fires late (CCC down). Someone whose shift has ended did
    not let it time out (the case just escalates), and someone already absent is left as they are.
    """
    holder = rt.roster.operator(case.assigned_to) if case.assigned_to else None
    if holder is None or case.kind == GAP_KIND or holder.role not in rt.dispatch_chain.dispatch_roles:
        return
    if not any(d.operator.id == holder.id for d in rt.on_shift(now)):
        return
    due = due_at or now
    if due - await _held_since(uow.conn, case) < (due - utc(case.opened_at)) / 2:
        return
    if await _current_state(uow.conn, rt, holder.id, now) not in PRESENT:
        return
    if not await _lock_for_change(uow.conn, holder.id, wait=False):
        log.info("presence change in progress; no away inference", extra={"operator": holder.id})
        return  # their own change (or a dispatch to them) is under way: the case just escalates
    await _change(
        uow, rt, holder.id, "away", source="inferred", set_by="system",
        reason=f"let case {case.case_id} time out", keep={case.case_id},
    )  # fmt: skip


async def _open_gaps(conn: AsyncConnection) -> dict[str, Case]:
    """The open presence-gap cases by language (their `presence-gap:<lang>` subject)."""
    s, c = t.case_subjects, t.cases
    rows = await conn.execute(
        sa.select(s.c.subject, c.c.case_id)
        .join(c, c.c.case_id == s.c.case_id)
        .where(s.c.subject.in_(GAP_SUBJECTS), c.c.kind == GAP_KIND, c.c.status.in_(t.OPEN_STATUSES))
    )
    return {r.subject.split(":", 1)[1]: await cases.get(conn, r.case_id) for r in rows}


async def _gap_officer(conn: AsyncConnection, rt: CccRuntime, desk: str, now: datetime) -> tuple[str | None, str]:
    """Who gets a gap warning: a present (available or busy) duty officer on shift at `desk`, else
    one present at another desk (least loaded); with none present, `escalation_target` as for any
    case (the desk's duty officer although absent, or its head), saying so. Returns who and why."""
    from interpol_offices.ccc_router.workflow import escalation_target  # workflow imports this module

    officers = [d for d in rt.on_shift(now) if d.operator.role == "duty-officer"]
    states = await states_now(conn, officers)
    present = [d for d in officers if states[d.operator.id] in PRESENT]
    here = [d for d in present if d.desk == desk]
    if pool := here or present:
        loads = await cases.open_loads(conn, [d.operator.id for d in pool])
        best = min(pool, key=lambda d: loads.get(d.operator.id, 0))
        where = "at the case's desk" if here else f"at {best.desk} (none present at {desk})"
        return best.operator.id, f"duty officer on shift and {states[best.operator.id]} {where}"
    officer, why = escalation_target(rt, "duty-officer", desk, now, await cases.open_loads(conn))
    absent = ", ".join(f"{d.operator.id} {states[d.operator.id]}" for d in officers) or "none on shift"
    return officer, f"{why}; no duty officer is present ({absent})"


async def _open_gap(uow: UnitOfWork, rt: CccRuntime, lang: str, now: datetime) -> Case:
    """Insert the warning case, assigned to a present duty officer (`_gap_officer`)."""
    conn, ctx = uow.conn, uow.ctx
    desk = rt.primary_desk(now)
    officer, why = await _gap_officer(conn, rt, desk, now)
    title = f"Nobody present for {lang} at {desk}"
    text = (
        f"No operator with {lang} on shift is available or busy at {now.isoformat()}: new {lang} cases go "
        f"down the dispatch chain (another desk, then English with translation). Ask someone to come back, "
        f"or add cover. Resolved by the CCC when someone with {lang} is present again.\nGiven to {officer}: {why}."
    )
    decided = language.resolve("en", f"{title}\n{text}")
    policy = rt.policies[GAP_PRIORITY]
    case_id = new_message_id(ctx.clock)
    record: dict[str, Any] = {"desk": desk, "queue_language": "en", "operator": officer, "translation_needed": False,
              "step": "presence gap", "attempts": []}  # fmt: skip
    case = await cases.insert(
        conn,
        {
            "case_id": case_id, "message_id": None, "source": "api", "sender": None, "reported_by": None,
            "kind": GAP_KIND, "title": title, "text": text, "involved": [], "priority": GAP_PRIORITY,
            "language_tag": "en", "language": decided.language, "language_decision": decided.record(),
            "queue_language": "en", "translation_needed": False, "status": "dispatched", "desk": desk,
            "assigned_to": officer, "escalation_level": 0, "escalated_to": None, "policy": snapshot(policy),
            "dispatch": record, "opened_at": now, "sent_at": None, "dispatched_at": now, "updated_at": now,
            "version": 1,
        },
    )  # fmt: skip
    await conn.execute(t.case_subjects.insert().values(case_id=case_id, subject=gap_subject(lang)))
    await cases.add_events(
        conn,
        [
            {"case_id": case_id, "at": now, "actor": "system", "action": "opened",
             "data": {"source": "presence", "kind": GAP_KIND, "gap_language": lang, "priority": GAP_PRIORITY,
                      "policy_digest": policy.digest}},
            {"case_id": case_id, "at": now, "actor": "system", "action": "dispatched", "reason": why, "data": record},
        ],
    )  # fmt: skip
    await cases.add_deadlines(conn, case_id, plan(policy, now, ctx.directory.desks))
    return case


async def _hand_over_gap(uow: UnitOfWork, rt: CccRuntime, case: Case, now: datetime) -> None:
    """The desks handed over while the gap lasts: the warning goes to the incoming duty officer."""
    desk = rt.primary_desk(now)
    officer, why = await _gap_officer(uow.conn, rt, desk, now)
    await cases.update(uow.conn, case, now, desk=desk, assigned_to=officer)
    await cases.add_event(
        uow.conn, case.case_id, now, "system", "handover", f"gap still open at the handover to {desk}: {why}",
        from_desk=case.desk, to_desk=desk, from_operator=case.assigned_to, operator=officer,
    )  # fmt: skip


async def _close_gap(uow: UnitOfWork, case: Case, resolution: str, now: datetime) -> None:
    conn = uow.conn
    await cases.update(conn, case, now, status="resolved", resolved_at=now)
    stopped = await cases.cancel_deadlines(conn, case.case_id, now, "cancelled: resolved by the CCC (covered again)")
    await cases.add_event(conn, case.case_id, now, "system", "resolved", resolution, deadlines_cancelled=stopped)


def present_by_language(
    rt: CccRuntime, on_shift: Sequence[Duty], states: dict[str, State]
) -> dict[str, list[tuple[str, State]]]:
    """Per official language, the on-shift dispatch-role operators with it and their states (roster order)."""
    roles = set(rt.dispatch_chain.dispatch_roles)
    return {
        lang: [(d.operator.id, states[d.operator.id]) for d in on_shift
               if d.operator.role in roles and lang in d.operator.languages]
        for lang in OFFICIAL_LANGUAGES
    }  # fmt: skip


async def check_gaps(ctx: OfficeContext, now: datetime) -> None:
    """Open (once) or resolve the `presence-gap` case of each language; called on every timer tick."""
    rt = runtime_of(ctx)
    on = rt.on_shift(now)
    async with ctx.engine.connect() as conn:
        states = await states_now(conn, on)
        open_gaps = await _open_gaps(conn)
    by_lang = present_by_language(rt, on, states)
    todo: list[tuple[str, str | None]] = []
    for lang, people in by_lang.items():
        present = [(op, s) for op, s in people if s in PRESENT]
        if not present and lang not in open_gaps:
            todo.append((lang, None))
        elif present and lang in open_gaps:
            todo.append((lang, f"{lang} covered again: {present[0][0]} {present[0][1]}"))
        elif lang in open_gaps and open_gaps[lang].desk != rt.primary_desk(now):
            todo.append((lang, None))
    if not todo:
        return
    try:
        async with ctx.transaction() as uow:
            if uow.conn.dialect.name == "postgresql":  # SQLite's writes are serialised already (writing.py)
                await uow.conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": GAP_LOCK})
            again = await _open_gaps(uow.conn)  # another loop may have acted meanwhile: read under the lock
            for lang, resolution in todo:
                if resolution is None and lang not in again:
                    await _open_gap(uow, rt, lang, now)
                elif resolution is None and again[lang].desk != rt.primary_desk(now):
                    await _hand_over_gap(uow, rt, again[lang], now)
                elif resolution is not None and lang in again:
                    await _close_gap(uow, again[lang], resolution, now)
    except CaseConflict:
        return  # someone acted on a gap case at this instant; the next tick looks again


async def stored(conn: AsyncConnection, operator_id: str) -> Presence | None:
    """The last state recorded for an operator, lapsed or not (for someone off shift)."""
    row = (await _rows(conn, [operator_id])).get(operator_id)
    if row is None:
        return None
    return Presence(row.state, utc(row.since), row.source, row.set_by, row.reason)


async def sample_present(ctx: OfficeContext) -> None:
    """Set `operators_present{language}` (the CCC's metrics) from the roster and the states now."""
    rt = runtime_of(ctx)
    if rt.metrics is None:
        return
    on = rt.on_shift(ctx.clock.now())
    async with ctx.engine.connect() as conn:
        states = await states_now(conn, on)
    for lang, people in present_by_language(rt, on, states).items():
        rt.metrics.operators_present.labels(lang).set(sum(s in PRESENT for _, s in people))
