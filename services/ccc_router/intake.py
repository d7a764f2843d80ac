"""Bus intake: verified envelopes addressed to the CCC that become cases.

Runs inside the inbox consumer's unit of work, after verification and storage, so the message,
its case, the dispatch and the planned deadlines commit together or not at all. Which
messages open a case: every hit report and record hit; a free-text message if it is urgent or critical, or
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
from interpol_mesh.messages.records import RecordHit
from interpol_mesh.messaging import UnitOfWork
from interpol_offices.ccc_router import related
from interpol_offices.ccc_router.cases import Case, CaseConflict
from interpol_offices.ccc_router.hit_check import unconfirmed
from interpol_offices.ccc_router.runtime import CccRuntime, runtime_of
from interpol_offices.ccc_router.workflow import Intake, open_case


def opens_case(verified: Verified) -> bool:
    body = verified.body
    if isinstance(body, HitReport | RecordHit):
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


_DATABASE_LABEL = {"sltd": "SLTD", "smv": "SMV", "persons": "persons"}


def _searched(hit: RecordHit) -> str:
    """What the officer searched, field by field (the CCC needs it to act on the hit)."""
    q = hit.query.model_dump(mode="json", exclude_none=True, exclude={"database"})
    person = q.pop("person", None)
    parts = [f"{k}: {v}" for k, v in q.items()]
    if person:
        names = "; ".join(
            " ".join(str(n.get(k)) for k in ("family_name", "given_names") if n.get(k)) for n in person["names"]
        )
        parts.append(f"names: {names}")
        parts += [f"{k}: {person[k]}" for k in ("date_of_birth", "nationality") if person.get(k)]
    return ", ".join(parts)


async def on_record_hit(uow: UnitOfWork, verified: Verified) -> None:
    """A frontline hit on a police-data record opens (or joins) a case in the record OWNER's language.

    The issue: "the CCC opens a case in the owner's language". The owner office is the one that
    must act (confirm the record, send the arrest or seizure request), so the case goes to the desk
    of the owner's working language (`language` in the directory), not the searcher's: the intake
    passes the owner's language as the tag and no text to check it against (`detect_text=""`), so
    the language decision keeps it (`tag-kept-no-text`) and dispatch picks that language's desk.
    The body is structured data composed by the searching NCB's software, not prose: there is no
    evidence in it that could outweigh the owner. The sender's own header tag is kept in the
    `opened` event's notes. An owner missing from the directory (a stale record): the sender's tag.

    Priority is the header's (the searching NCB decides how urgent; a record hit names no notice to
    confirm, unlike a hit report). Subjects (related.py `record_hit_subjects`): repeated hits on one
    record, or on the same document, vehicle or notice, join one open case.
    """
    ctx = uow.ctx
    body = verified.body
    if not isinstance(body, RecordHit):
        return
    h = verified.header
    owner = ctx.directory.offices.get(body.owner_office)
    owner_language = owner.language if owner is not None else None
    label = _DATABASE_LABEL[body.database]
    title = f"Hit on {label} record {body.record_id} in {body.country}: {body.place}"
    reasons = ", ".join(body.reasons) or "none given"
    kind = f"{body.notice_type} notice" if body.notice_type else "notice"
    notice = f"; from {kind} {body.notice_id}" if body.notice_id else ""
    text = (
        f"searched: {_searched(body)}\n"
        f"score {body.score:.2f} ({reasons}); mode {body.mode}; purpose {body.purpose}\n"
        f"place: {body.place} ({body.country}); hit at {body.hit_at.isoformat()}; search {body.search_id}\n"
        f"record {body.record_id} owned by {body.owner_office}{notice}"
    )
    involved = tuple(dict.fromkeys(o for o in (h.sender, body.owner_office) if o in ctx.directory.offices))
    notes: dict[str, object] = {
        "record_hit": {
            "search_id": body.search_id, "record_id": body.record_id, "owner_office": body.owner_office,
            "owner_language": owner_language, "sender_language": h.language,
        },
    }  # fmt: skip
    rt = runtime_of(ctx)
    await _open_or_link(
        uow,
        rt,
        Intake(
            source="bus",
            kind="record-hit",
            title=title,
            text=text,
            priority=h.priority,
            language_tag=owner_language or h.language,
            involved=involved,
            detect_text="",
            message_id=h.message_id,
            sender=h.sender,
            sent_at=h.created_at,
            notes=notes,
            subjects=await related.record_hit_subjects(uow.conn, body),
        ),
    )
