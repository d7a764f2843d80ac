"""Bus intake: verified envelopes addressed to the CCC that become cases.

Runs inside the inbox consumer's unit of work, after verification and storage, so the message,
its case, the dispatch and the planned deadlines commit together or not at all. Which
messages open a case: every hit report; a free-text message if it is urgent or critical, or
a request for assistance at any priority. Anything else stays in the inbox only.

A hit report keeps its sender's priority only when the CCC confirms the notice it names
(`hit_check.py`); otherwise its case opens at `routine`, marked "notice unconfirmed" with the
reason, and the decision is audited: an insider cannot page the duty officers with an
invented notice, and a real but odd report still reaches a human.

Before opening, both handlers name what the envelope is about (related.py): if an open case
shares a subject, the envelope is linked to that case instead (a `linked` event, no new case).
A message that would not open a case (routine, not a request) is linked too when an open case
shares a subject: it is more information on a live case. Otherwise it opens nothing.
"""

from __future__ import annotations

from dataclasses import replace

from interpol_mesh.audit import AuditEvent
from interpol_mesh.envelope import Verified
from interpol_mesh.messages import FreeTextMessage, HitReport
from interpol_mesh.messaging import UnitOfWork
from interpol_offices.ccc_router import related
from interpol_offices.ccc_router.cases import Case, CaseConflict
from interpol_offices.ccc_router.hit_check import unconfirmed
from interpol_offices.ccc_router.runtime import CccRuntime, runtime_of
from interpol_offices.ccc_router.workflow import Intake, open_case


def opens_case(verified: Verified) -> bool:
    body = verified.body
    if isinstance(body, HitReport):
        return True
    if isinstance(body, FreeTextMessage):
        return verified.header.priority in ("urgent", "critical") or body.request_for_assistance
    return False


def _count(uow: UnitOfWork, rt: CccRuntime, case: Case) -> None:
    if rt.metrics is not None:
        rt.metrics.case_opened(uow, case)


async def _open_or_link(uow: UnitOfWork, rt: CccRuntime, intake: Intake, *, may_open: bool = True) -> None:
    """Link to the oldest open case sharing a subject, else open a case naming any earlier related ones.

    The open case is found by a plain read: if it is resolved (or changed) before the link writes,
    link() raises CaseConflict having written nothing, and the choice is made once more on a fresh
    read in the same transaction (read committed: the resolve is seen), so the report opens a new
    case instead of joining a resolved one. A second conflict goes to the inbox consumer, which
    retries the message in a new transaction. `may_open=False`: link only (a routine message).
    """
    conn = uow.conn
    for attempt in (1, 2):
        existing = await related.open_case_about(conn, intake.subjects)
        if existing is None:
            break
        try:
            await related.link(uow, rt, existing, intake)
            return
        except CaseConflict:
            if attempt == 2:
                raise
    if not may_open:
        return
    earlier = await related.cases_about(conn, intake.subjects)
    if earlier:
        intake = replace(intake, notes={**intake.notes, "related_cases": earlier})
    _count(uow, rt, await open_case(uow, rt, intake))


async def on_message(uow: UnitOfWork, verified: Verified) -> None:
    """A message that opens a case opens or links one; any other message about an open case's
    notice, document or vehicle is linked to it (more information on a live case), else stays
    in the inbox only."""
    body = verified.body
    if not isinstance(body, FreeTextMessage):
        return
    h = verified.header
    rt = runtime_of(uow.ctx)
    await _open_or_link(
        uow,
        rt,
        Intake(
            source="bus",
            kind="request" if body.request_for_assistance else "message",
            title=body.title,
            text=body.text,
            priority=h.priority,
            language_tag=h.language,
            involved=(h.sender,),
            message_id=h.message_id,
            sender=h.sender,
            sent_at=h.created_at,
            subjects=await related.message_subjects(uow.conn, body),
        ),
        may_open=opens_case(verified),
    )


async def on_hit_report(uow: UnitOfWork, verified: Verified) -> None:
    ctx = uow.ctx
    body = verified.body
    if not isinstance(body, HitReport):
        return
    h = verified.header
    title = f"Hit on {body.notice_type} notice {body.notice_id} in {body.country}: {body.place}"
    detained = "subject detained" if body.subject_detained else "subject not detained"
    text = (
        f"{body.description}\n\nplace: {body.place} ({body.country}); hit at {body.hit_at.isoformat()}; {detained}; "
        f"requesting office: {body.requesting_office}"
    )
    check = await unconfirmed(uow.conn, ctx, h.sender, body)
    priority = h.priority
    notes: dict[str, object] = {"notice": {"confirmed": True}}
    if check is not None:
        priority = "routine"
        title = f"Notice unconfirmed: {title}"
        text += f"\nnotice unconfirmed: {check.reason}; sent as {h.priority}, opened as routine"
        notes = {"notice": {"confirmed": False, "code": check.code, "reason": check.reason, "sent_as": h.priority}}
        uow.audit(
            AuditEvent(
                event="hit-unconfirmed", result=check.code, message_id=h.message_id, sender=h.sender,
                detail=f"{check.reason}; case opened as routine instead of {h.priority}",
            ),
        )  # fmt: skip
    involved = tuple(o for o in (h.sender, body.requesting_office) if o in ctx.directory.offices)
    rt = runtime_of(ctx)
    await _open_or_link(
        uow,
        rt,
        Intake(
            source="bus",
            kind="hit-report",
            title=title,
            text=text,
            priority=priority,
            language_tag=h.language,
            involved=involved,
            detect_text=f"{body.description}\n{body.place}",
            message_id=h.message_id,
            sender=h.sender,
            sent_at=h.created_at,
            notes=notes,
            subjects=await related.hit_subjects(uow.conn, body),
        ),
    )
