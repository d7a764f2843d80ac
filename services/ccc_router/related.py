"""Related cases: reports about the same notice, person or document join one open case.

Each intake names its subjects (`notice:<id>` from a hit report or a message's references to a
notice the CCC holds a copy of, `document:<number>` for a number its text introduces with a
document word, `vehicle:<VIN>` for a VIN in it, `person:<names>:<date of birth>` from the CCC's
copy of the notice's subject). If an open case shares a subject (whatever the envelope's
priority: a routine message is linked too, though it would not open a case), the envelope is *linked* to it (`ccc_case_links`, unique per message
id) with a `linked` event that carries what it said, instead of opening another case: three hit
reports on one notice are one case with three reports on its timeline. A linked report of higher
priority raises the case's priority. Nothing is lost: the envelope stays in the inbox and the
link row names it. A resolved case is not reopened; the next report opens a new case that names
the earlier one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.messages import FreeTextMessage, HitReport
from interpol_mesh.messages.records import RecordHit
from interpol_mesh.messaging import UnitOfWork
from interpol_mesh.notices import store as notices
from interpol_mesh.storage import insert_ignoring_duplicates
from interpol_offices.ccc_router import ack_timeout, cases
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.cases import Case, CaseConflict
from interpol_offices.ccc_router.identifiers import find_identifiers
from interpol_offices.ccc_router.policy import Policy, plan, snapshot
from interpol_offices.ccc_router.runtime import CccRuntime

if TYPE_CHECKING:  # workflow imports this module to store an opened case's subjects
    from interpol_offices.ccc_router.workflow import Intake

RANK = {"routine": 0, "urgent": 1, "critical": 2}
EXCERPT = 500  # characters of a linked report's text kept on its `linked` event (the inbox has it all)
_SUBJECT_MAX = 200  # ccc_case_subjects.subject


def _fold(text: str) -> str:
    """Case, accents and punctuation folded away: `Núñez-García, José` -> `nunez garcia jose`."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", plain.casefold()).replace("_", " ").split())


def person_subject(person: Mapping[str, Any] | None) -> str | None:
    """`person:<name tokens, sorted>:<date of birth>`, only with a name and a date of birth.

    Sorted tokens: family and given names swapped between two notices still meet; a name alone
    (or a birth date alone) is too weak a key to join two cases.
    """
    if not person or not person.get("date_of_birth"):
        return None
    names = _fold(" ".join(str(person.get(k) or "") for k in ("family_name", "given_names")))
    if not names:
        return None
    return f"person:{' '.join(sorted(names.split()))}:{person['date_of_birth']}"[:_SUBJECT_MAX]


# A document number is a subject only when the text says it is one: the word just before it
# names a document (`passport 12AB34567`, `pasaporte n° X`, `ID: X`, `جواز سفر رقم X`). Codes
# of the same shape are everywhere in police text (flights AF1234, COVID19, ISO9001, A320NEO,
# 737MAX8, pieces of upper-case ids): keyed on shape alone, they would join unrelated cases.
_DOCUMENT_WORD = re.compile(
    r"(?<!\w)(?:passports?|passeports?|pasaportes?|ppt|id|dni|cni|docs?|documents?|documentos?|"
    r"n°|nº|no\.|número|numero|numéro|جواز(?:\s+سفر)?|وثيقة|رقم)"
    r"(?:[\s:#.]*(?:no\.?|n°|nº|nr\.?|num\.?|number|número|numero|numéro|رقم))?[\s:#.]*$",
    re.IGNORECASE,
)
_INTRO_WINDOW = 40  # characters before a number where its document word is looked for
_DOCUMENT_KEY = re.compile(r"(?=(?:[A-Z]*\d){2})[A-Z0-9]{6,12}")  # as identifiers' `document`, or all digits


def _introduced_as_document(text: str, start: int) -> bool:
    return _DOCUMENT_WORD.search(text[max(0, start - _INTRO_WINDOW) : start]) is not None


def identifier_subjects(text: str) -> list[str]:
    """`document:<number>` for the numbers the text introduces as documents, `vehicle:<VIN>` for its VINs.

    A VIN's shape (17 characters, no I, O or Q, letters and digits both) is specific enough on its
    own. Its ISO 3779 check digit is not required: only North American and Chinese VINs carry one,
    so requiring it would drop the European and most other VINs. An all-digit number after a
    document word (a 9-digit passport) is a document too.
    """
    found: list[str] = []
    for ident in find_identifiers(text):
        key = re.sub(r"[^A-Z0-9]", "", ident.text.upper())
        if ident.kind == "vin":
            found.append(f"vehicle:{key}"[:_SUBJECT_MAX])
        elif (
            ident.kind in ("document", "reference")
            and _DOCUMENT_KEY.fullmatch(key)
            and _introduced_as_document(text, ident.start)
        ):
            found.append(f"document:{key}"[:_SUBJECT_MAX])
    return found


async def notice_subjects(conn: AsyncConnection, notice_id: str) -> list[str]:
    """`notice:<id>` and its subject person, if the CCC holds a copy of that notice; else nothing."""
    row = await notices.get_notice(conn, notice_id)
    if row is None:
        return []
    person = person_subject((row.request or {}).get("person"))
    return [f"notice:{notice_id}", *([person] if person else [])]


async def hit_subjects(conn: AsyncConnection, report: HitReport) -> tuple[str, ...]:
    """A hit report is about its notice whether or not the CCC holds it (an unconfirmed report
    joins the case on that notice, marked, and cannot raise it: it counts as routine)."""
    held = await notice_subjects(conn, report.notice_id)
    found = [f"notice:{report.notice_id}", *held, *identifier_subjects(f"{report.description}\n{report.place}")]
    return tuple(dict.fromkeys(found))


def _key(value: str) -> str:
    """A document number or VIN as identifier_subjects keys it: upper case, letters and digits only."""
    return re.sub(r"[^A-Z0-9]", "", value.upper())


async def record_hit_subjects(conn: AsyncConnection, hit: RecordHit) -> tuple[str, ...]:
    """`record:<id>` (repeated hits on one record join one open case), the searched document number
    or VIN (a hit report or message naming the same document or vehicle joins it too), and for a
    record fed from a notice that notice (and its person, if the CCC holds a copy): a frontline hit
    on a Red Notice's person record and a hit report on that notice are one case."""
    found = [f"record:{hit.record_id}"[:_SUBJECT_MAX]]
    if hit.query.document_number and _key(hit.query.document_number):
        found.append(f"document:{_key(hit.query.document_number)}"[:_SUBJECT_MAX])
    if hit.query.vin and _key(hit.query.vin):
        found.append(f"vehicle:{_key(hit.query.vin)}"[:_SUBJECT_MAX])
    if hit.notice_id is not None:
        found += [f"notice:{hit.notice_id}", *await notice_subjects(conn, hit.notice_id)]
    return tuple(dict.fromkeys(found))


async def message_subjects(conn: AsyncConnection, body: FreeTextMessage) -> tuple[str, ...]:
    """References to notices the CCC holds, and the documents and vehicles in the title and text."""
    found: list[str] = []
    for ref in body.references:
        found += await notice_subjects(conn, ref)
    found += identifier_subjects(f"{body.title}\n{body.text}")
    return tuple(dict.fromkeys(found))


async def open_case_about(conn: AsyncConnection, subjects: tuple[str, ...]) -> Case | None:
    """The oldest open case sharing any of these subjects, if there is one."""
    if not subjects:
        return None
    c, s = t.cases, t.case_subjects
    query = (
        sa.select(c)
        .join(s, s.c.case_id == c.c.case_id)
        .where(s.c.subject.in_(list(subjects)), c.c.status.in_(t.OPEN_STATUSES))
        .order_by(c.c.opened_at, c.c.case_id)
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    return None if row is None else await cases.get(conn, row.case_id)


async def cases_about(conn: AsyncConnection, subjects: tuple[str, ...], limit: int = 20) -> list[str]:
    """Ids of every case (open or resolved) sharing a subject, oldest first: named on a new case."""
    if not subjects:
        return []
    c, s = t.cases, t.case_subjects
    query = (
        sa.select(c.c.case_id, c.c.opened_at)
        .join(s, s.c.case_id == c.c.case_id)
        .where(s.c.subject.in_(list(subjects)))
        .distinct()
        .order_by(c.c.opened_at, c.c.case_id)
        .limit(limit)
    )
    return [r.case_id for r in await conn.execute(query)]


async def remember_subjects(conn: AsyncConnection, case_id: str, subjects: Iterable[str]) -> None:
    rows = [{"case_id": case_id, "subject": s} for s in dict.fromkeys(subjects)]
    if rows:
        await conn.execute(insert_ignoring_duplicates(t.case_subjects, conn.dialect.name), rows)


async def subjects_of(conn: AsyncConnection, case_id: str) -> list[str]:
    s = t.case_subjects
    return list((await conn.scalars(sa.select(s.c.subject).where(s.c.case_id == case_id).order_by(s.c.subject))).all())


async def links_of(conn: AsyncConnection, case_id: str) -> list[dict[str, Any]]:
    k = t.case_links
    rows = await conn.execute(sa.select(k).where(k.c.case_id == case_id).order_by(k.c.link_id))
    return [dict(r._mapping) for r in rows]


async def link(uow: UnitOfWork, rt: CccRuntime, case: Case, intake: Intake) -> Case | None:
    """Link the intake's envelope to the open `case`; None if that envelope was linked already.

    The new reporting offices join the case's `involved` (they are told of its acknowledgement,
    escalation and resolution from now on); a report of higher priority raises the case.

    The case row is always updated first, through `cases.update`'s version check, even when
    nothing on it changes but `updated_at`: `case` was read by a plain SELECT, and a resolve
    committed since then must make this link fail (CaseConflict, nothing written) rather than
    hang a report on a resolved case. The caller then decides again on a fresh read (intake.py).
    """
    conn, ctx = uow.conn, uow.ctx
    now = ctx.clock.now()
    if intake.message_id is None:
        raise ValueError("only an envelope (with a message id) can be linked to a case")
    k = t.case_links
    if await conn.scalar(sa.select(k.c.case_id).where(k.c.message_id == intake.message_id)) is not None:
        return None  # a redelivery: the envelope is on a case already
    values: dict[str, Any] = {"involved": list(dict.fromkeys([*case.involved, *intake.involved]))}
    raised = RANK[intake.priority] > RANK[case.priority]
    if raised:
        policy = rt.policies[intake.priority]
        values.update(priority=intake.priority, policy=snapshot(policy), snoozed_until=None)
    if not case.is_open:
        raise CaseConflict(f"case {case.case_id} is {case.status}; a report is not linked to a closed case")
    updated = await cases.update(conn, case, now, **values)  # CaseConflict if resolved (or changed) since read
    known = set(await subjects_of(conn, case.case_id))
    shared = [s for s in intake.subjects if s in known]
    new = [s for s in intake.subjects if s not in known]
    inserted = await conn.execute(
        insert_ignoring_duplicates(t.case_links, conn.dialect.name).values(
            case_id=case.case_id, message_id=intake.message_id, at=now, sender=intake.sender, kind=intake.kind,
            priority=intake.priority, title=intake.title[:300], subjects=shared,
        )
    )  # fmt: skip
    if inserted.rowcount != 1:
        return None  # linked by a concurrent delivery of the same envelope in the meantime
    await remember_subjects(conn, case.case_id, new)
    await cases.add_event(
        conn, case.case_id, now, intake.sender or "system", "linked", f"shares {', '.join(shared)}",
        message_id=intake.message_id, sender=intake.sender, kind=intake.kind, priority=intake.priority,
        title=intake.title[:300], text=intake.text[:EXCERPT], language_tag=intake.language_tag,
        sent_at=intake.sent_at and intake.sent_at.isoformat(), subjects=shared, new_subjects=new, **intake.notes,
    )  # fmt: skip
    if raised:
        await _raised(uow, case, updated, intake, now)
    if rt.metrics is not None:
        rt.metrics.case_linked(uow, intake.priority)
    return updated


async def _raised(uow: UnitOfWork, before: Case, case: Case, intake: Intake, now: datetime) -> None:
    """The new priority's policy from now: its timed levels if the case still waits for an
    acknowledgement, else its acknowledgement timeout (and any if-not-resolved levels)."""
    conn = uow.conn
    stopped = await cases.cancel_deadlines(
        conn, case.case_id, now, f"cancelled: priority raised to {case.priority} by linked {intake.message_id}"
    )
    planned = [
        p for p in plan(Policy.model_validate(case.policy), now, uow.ctx.directory.desks)
        if case.status == "dispatched" or p.condition != "if-not-acked"
    ]  # fmt: skip
    await cases.add_deadlines(conn, case.case_id, planned)
    timeout = await ack_timeout.plan_after_ack(conn, case, now) if case.status == "acknowledged" else None
    await cases.add_event(
        conn, case.case_id, now, "system", "priority-raised",
        f"linked {intake.kind} {intake.message_id} from {intake.sender} is {case.priority}; the case was {before.priority}",
        previous=before.priority, priority=case.priority, message_id=intake.message_id, deadlines_cancelled=stopped,
        deadlines_planned=len(planned), ack_timeout_at=timeout and timeout.isoformat(),
    )  # fmt: skip
