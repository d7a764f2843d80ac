"""The case state machine: open (intake + dispatch), claim, acknowledge, escalate, reassign, resolve.

    dispatched --acknowledge--> acknowledged --resolve--> resolved
        |  ^  ^                      |  |
        |  |  +-- ack timeout -------+  +-- snooze (stays acknowledged; moves the ack timeout)
        |  +-- escalate / reassign / handover (stay in their state; desk or operator changes)
        +------------------------resolve-------------------------> resolved

The acknowledgement timeout and the snooze are in ack_timeout.py, linking related reports to an
open case in related.py.

Each function runs inside the caller's unit of work, appends its audit event(s), and sends the
signed notifications in the same unit of work, so a rolled-back action tells nobody anything.
Permission checks live at the edge (auth.py); these functions trust the actor they are given.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.directory import Language
from interpol_mesh.ids import new_message_id
from interpol_mesh.messages import Priority
from interpol_mesh.messaging import UnitOfWork
from interpol_offices.ccc_router import ack_timeout, cases, language, presence, related
from interpol_offices.ccc_router.cases import Case, CaseConflict, CaseError
from interpol_offices.ccc_router.dispatch import Decision, dispatch
from interpol_offices.ccc_router.notify import tell_offices
from interpol_offices.ccc_router.policy import plan, snapshot
from interpol_offices.ccc_router.roster import Operator
from interpol_offices.ccc_router.runtime import CccRuntime, runtime_of
from interpol_offices.ccc_router.schedule import Duty


@dataclass(frozen=True)
class Intake:
    """What any intake path (bus handler or operator API) hands over to open a case."""

    source: Literal["bus", "api"]
    kind: str
    title: str
    text: str
    priority: Priority
    language_tag: str | None
    involved: tuple[str, ...] = ()
    # The text the language is checked against: None = title + text; hit reports pass only the free text;
    # "" = nothing to check, the tag decides (a record hit: the owner's language, intake.on_record_hit).
    detect_text: str | None = None
    message_id: str | None = None
    sender: str | None = None
    reported_by: str | None = None
    sent_at: datetime | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)  # what intake checked (a hit's notice), kept on `opened`
    subjects: tuple[str, ...] = ()  # what it is about (related.py): stored with the case, or the link key


async def _choose(
    conn: AsyncConnection, rt: CccRuntime, lang: Language, primary: str, on_shift: Sequence[Duty],
    loads: Mapping[str, int],
) -> Decision:  # fmt: skip
    """The pure chain, then `presence.hold` on the operator it chose: someone whose presence is
    changing at this instant, or who is no longer available, is left out and the chain runs again
    (so a case is never given to an operator in the same instant they go away)."""
    pool = list(on_shift)
    while True:
        decision = dispatch(lang, primary, pool, loads, rt.dispatch_chain)
        duty = next((d for d in pool if d.operator.id == decision.operator), None)
        if duty is None or await presence.hold(conn, duty):
            return decision
        pool.remove(duty)


async def _decide(conn: AsyncConnection, rt: CccRuntime, lang: Language, at: datetime) -> Decision:
    on_shift = await presence.dispatchable(conn, rt.on_shift(at))  # busy, away and offline take nothing new
    loads = await cases.open_loads(conn, [d.operator.id for d in on_shift])
    return await _choose(conn, rt, lang, rt.primary_desk(at), on_shift, loads)


async def open_case(uow: UnitOfWork, rt: CccRuntime, intake: Intake) -> Case:
    """Intake -> language decision -> dispatch chain -> stored case with its deadlines planned."""
    conn, ctx = uow.conn, uow.ctx
    now = ctx.clock.now()
    detect = f"{intake.title}\n{intake.text}" if intake.detect_text is None else intake.detect_text
    decided = language.resolve(intake.language_tag, detect)
    decision = await _decide(conn, rt, decided.language, now)
    policy = rt.policies[intake.priority]
    case_id = new_message_id(ctx.clock)
    case = await cases.insert(
        conn,
        {
            "case_id": case_id, "message_id": intake.message_id, "source": intake.source, "sender": intake.sender,
            "reported_by": intake.reported_by, "kind": intake.kind, "title": intake.title[:300], "text": intake.text,
            "involved": list(intake.involved), "priority": intake.priority, "language_tag": intake.language_tag,
            "language": decided.language, "language_decision": decided.record(),
            "queue_language": decision.language,
            "translation_needed": decision.translation_needed, "status": "dispatched", "desk": decision.desk,
            "assigned_to": decision.operator, "escalation_level": 0, "escalated_to": None, "policy": snapshot(policy),
            "dispatch": decision.record(), "opened_at": now, "sent_at": intake.sent_at, "dispatched_at": now,
            "updated_at": now, "version": 1,
        },
    )  # fmt: skip
    opened = {
        "source": intake.source, "kind": intake.kind, "message_id": intake.message_id, "priority": intake.priority,
        "language": decided.record(), "policy_digest": policy.digest, **intake.notes,
    }  # fmt: skip
    await cases.add_events(
        conn,
        [
            {
                "case_id": case_id,
                "at": now,
                "actor": intake.sender or intake.reported_by or "system",
                "action": "opened",
                "data": opened,
            },
            {
                "case_id": case_id,
                "at": now,
                "actor": "system",
                "action": "dispatched",
                "reason": decision.step,
                "data": decision.record(),
            },
        ],
    )
    await cases.add_deadlines(conn, case_id, plan(policy, now, ctx.directory.desks))
    await related.remember_subjects(conn, case_id, intake.subjects)
    return case


def _require_open(case: Case) -> None:
    if case.status == "resolved":
        raise CaseConflict(f"case {case.case_id} is resolved (at {case.resolved_at.isoformat()}); nothing to do")


async def claim(uow: UnitOfWork, case: Case, actor: Operator) -> Case:
    conn, ctx = uow.conn, uow.ctx
    _require_open(case)
    if case.assigned_to == actor.id:
        return case
    now = ctx.clock.now()
    updated = await cases.update(conn, case, now, assigned_to=actor.id)
    await cases.add_event(conn, case.case_id, now, actor.id, "claimed", None, previous=case.assigned_to)
    return updated


async def acknowledge(uow: UnitOfWork, case: Case, actor: Operator) -> Case:
    conn, ctx = uow.conn, uow.ctx
    _require_open(case)
    if case.status == "acknowledged":
        raise CaseConflict(f"case {case.case_id} was already acknowledged by {case.acknowledged_by}")
    now = ctx.clock.now()
    updated = await cases.update(
        conn, case, now, status="acknowledged", acknowledged_at=now, acknowledged_by=actor.id,
        acknowledged_desk=actor.desk, assigned_to=case.assigned_to or actor.id,
    )  # fmt: skip
    stopped = await cases.cancel_deadlines(
        conn, case.case_id, now, f"cancelled: acknowledged by {actor.id}", conditions=["if-not-acked"]
    )
    timeout = await ack_timeout.plan_after_ack(conn, updated, now)
    sent = await tell_offices(uow, updated, "acknowledged", offices=case.involved)
    await cases.add_event(
        conn, case.case_id, now, actor.id, "acknowledged", None, deadlines_cancelled=stopped, notified=sent,
        ack_timeout_at=timeout and timeout.isoformat(),
    )  # fmt: skip
    if (metrics := runtime_of(ctx).metrics) is not None:
        metrics.case_acknowledged(uow, updated)
    return updated


async def resolve(uow: UnitOfWork, case: Case, actor: Operator, resolution: str) -> Case:
    conn, ctx = uow.conn, uow.ctx
    _require_open(case)
    now = ctx.clock.now()
    updated = await cases.update(conn, case, now, status="resolved", resolved_at=now)
    stopped = await cases.cancel_deadlines(conn, case.case_id, now, f"cancelled: resolved by {actor.id}")
    sent = await tell_offices(uow, updated, "resolved", offices=case.involved, reason=resolution)
    await cases.add_event(
        conn, case.case_id, now, actor.id, "resolved", resolution, deadlines_cancelled=stopped, notified=sent
    )
    return updated


def escalation_target(
    rt: CccRuntime,
    target: str,
    desk: str,
    at: datetime,
    loads: Mapping[str, int],
    absent: Collection[str] = frozenset(),
) -> tuple[str | None, str]:
    """Who a level pages: the duty officer on shift at the case's desk (else any on shift, least
    loaded), or the desk's head (on shift, else on call); returns the operator and why.

    Someone on shift but `absent` (away or offline, presence.py) is paged only when nobody present
    can be: a page to an empty chair is the failure escalation exists to prevent."""
    on = rt.on_shift(at)
    here_ = [d for d in on if d.operator.id not in absent]
    if target == "duty-officer":
        for pool_on, absent_note in ((here_, ""), (on, " (away: nobody present to page)")):
            here = [d for d in pool_on if d.operator.role == "duty-officer" and d.desk == desk]
            pool = here or [d for d in pool_on if d.operator.role == "duty-officer"]
            if pool:
                best = min(pool, key=lambda d: loads.get(d.operator.id, 0))
                where = "on shift at the case's desk" if here else f"on shift at {best.desk} (none at {desk})"
                return best.operator.id, f"duty officer {where}{absent_note if best.operator.id in absent else ''}"
    heads = [d for d in here_ if d.operator.role == "head-of-desk" and d.desk == desk]
    if heads:
        return heads[0].operator.id, "head of desk on shift"
    on_call = [o for o in rt.roster.operators if o.role == "head-of-desk" and o.desk == desk]
    if on_call:
        return on_call[0].id, "head of desk on call" + (" (away)" if on_call[0].id in absent else " (off shift)")
    return None, f"nobody to page at {desk}"


async def escalate(
    uow: UnitOfWork,
    rt: CccRuntime,
    case: Case,
    *,
    level: int,
    actor: str,
    reason: str,
    repeat: int = 0,
) -> Case:
    """Move the case to `level` (or page that level again for a repeat) and tell the offices."""
    conn, ctx = uow.conn, uow.ctx
    _require_open(case)
    rules: list[dict[str, Any]] = case.policy["rules"]
    if not 1 <= level <= len(rules):
        raise CaseConflict(f"case {case.case_id} has no escalation level {level} (its policy has {len(rules)})")
    rule = rules[level - 1]
    now = ctx.clock.now()
    states = await presence.states_now(conn, rt.on_shift(now))
    absent = {op for op, state in states.items() if state not in presence.PRESENT}
    operator, note = escalation_target(rt, rule["target"], case.desk, now, await cases.open_loads(conn), absent)
    updated = case
    if repeat == 0:
        updated = await cases.update(
            conn, case, now, escalation_level=level, escalated_to=operator, assigned_to=operator or case.assigned_to
        )
        if actor != "system":
            await cases.cancel_deadlines(conn, case.case_id, now, f"cancelled: escalated by {actor}", up_to_level=level)
    offices = [*(case.involved if case.policy.get("notify_involved", True) else []), *rule.get("notify", [])]
    detail = {"level": str(level), "paged": operator or "nobody"}
    if repeat:
        detail["repeat"] = f"{repeat} of {case.policy['repeat']['count']}"
    sent = await tell_offices(
        uow, updated, "escalated", offices=offices, target=rule["target"], reason=reason, detail=detail
    )
    await cases.add_event(
        conn, case.case_id, now, actor, "escalation-repeated" if repeat else "escalated", reason,
        level=level, target=rule["target"], operator=operator, note=note, repeat=repeat, notified=sent,
        notified_offices=[o for o in dict.fromkeys(offices) if o in ctx.directory.offices and o != ctx.office.id],
    )  # fmt: skip
    return updated


async def redispatch(
    uow: UnitOfWork,
    rt: CccRuntime,
    case: Case,
    *,
    actor: str,
    action: str,
    reason: str,
    primary: str | None = None,
    require_operator: bool = False,
) -> Case:
    """Run the chain again (handover, reassignment to a desk, a presence change, the waiting queue);
    a no-change result writes nothing, nor does one with nobody to take it if `require_operator`."""
    conn, ctx = uow.conn, uow.ctx
    _require_open(case)
    now = ctx.clock.now()
    loads = dict(await cases.open_loads(conn))
    if case.assigned_to:
        loads[case.assigned_to] = max(0, loads.get(case.assigned_to, 0) - 1)  # do not count the case against its holder
    on_shift = await presence.dispatchable(conn, rt.on_shift(now))  # only available operators take it
    decision = await _choose(conn, rt, case.language, primary or rt.primary_desk(now), on_shift, loads)
    if (decision.desk, decision.operator) == (case.desk, case.assigned_to):
        return case
    if require_operator and decision.operator is None:
        return case
    updated = await cases.update(
        conn, case, now, desk=decision.desk, assigned_to=decision.operator, queue_language=decision.language,
        translation_needed=decision.translation_needed, dispatch=decision.record(),
    )  # fmt: skip
    await cases.add_event(
        conn, case.case_id, now, actor, action, reason,
        from_desk=case.desk, to_desk=decision.desk, from_operator=case.assigned_to, **decision.record(),
    )  # fmt: skip
    return updated


async def reassign_to_operator(
    uow: UnitOfWork, rt: CccRuntime, case: Case, actor: Operator, target: str, reason: str
) -> Case:
    conn, ctx = uow.conn, uow.ctx
    _require_open(case)
    op = rt.roster.operator(target)
    if op is None:
        raise CaseError(f"operator {target!r} is not on the roster")
    now = ctx.clock.now()
    on_shift = any(d.operator.id == op.id for d in rt.on_shift(now))
    translate = case.language not in op.languages
    updated = await cases.update(
        conn, case, now, assigned_to=op.id, desk=op.desk, translation_needed=translate,
        queue_language=case.language if not translate else ("en" if "en" in op.languages else op.languages[0]),
    )  # fmt: skip
    await cases.add_event(
        conn, case.case_id, now, actor.id, "reassigned", reason, from_desk=case.desk, to_desk=op.desk,
        from_operator=case.assigned_to, operator=op.id, on_shift=on_shift, translation_needed=translate,
    )  # fmt: skip
    return updated
