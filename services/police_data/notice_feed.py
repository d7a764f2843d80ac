"""GS: a published Red or Yellow notice with a person becomes a wanted/missing person record; its end removes it.

The person record is `persons/<requesting office>/notice-<notice id>`, owned by the requesting NCB
(its data, its hit reports), written in the notice decision's own unit of work, so a notice is
never published without being searchable nor searchable once cancelled. Who may see it is the
notice's own distribution (the NCBs it was sent to); its retention end is the notice's expiry, so
the retention sweep deletes it when the notice expires (one mechanism for both), and a search
ignores it from that instant. The change goes on to the national copies like an owner's change.
"""

from __future__ import annotations

from datetime import datetime

from interpol_mesh.audit import AuditEvent
from interpol_mesh.messages.notices import NoticeRequest
from interpol_mesh.messages.records import PersonName, RecordChange, WantedPerson
from interpol_mesh.messaging.unit_of_work import UnitOfWork
from interpol_offices.police_data import store
from interpol_offices.police_data.contributions import NOTICE_REF_PREFIX
from interpol_offices.police_data.national_copy import fan_out

INSTRUCTIONS = {
    "red": "arrest: wanted for prosecution or to serve a sentence (Red Notice); inform the requesting NCB at once",
    "yellow": "locate: missing person (Yellow Notice); do not alarm the person, inform the requesting NCB",
}
MAX_DOCUMENT_NUMBERS = 10


def record_ref(notice_id: str) -> str:
    return f"{NOTICE_REF_PREFIX}{notice_id}"  # an owner's own change to it is refused (contributions.py)


def person_change(
    notice_id: str, request: NoticeRequest, *, recipients: list[str], countries: dict[str, str | None],
    expires_at: datetime | None,
) -> RecordChange | None:  # fmt: skip
    """The person record a published notice stands for, or None (another notice type, or no named person)."""
    person = request.person
    if request.notice_type not in INSTRUCTIONS or person is None or not (person.family_name or person.given_names):
        return None
    visible_to = None
    if request.distribution.mode != "all":
        visible_to = tuple(sorted({c for o in recipients if (c := countries.get(o)) is not None}))
    wanted = WantedPerson(
        names=(PersonName(family_name=person.family_name, given_names=person.given_names),),
        date_of_birth=person.date_of_birth, nationalities=person.nationalities[:5],
        document_numbers=tuple(d[:30] for d in person.identity_documents[:MAX_DOCUMENT_NUMBERS]),
        status="wanted" if request.notice_type == "red" else "missing", notice_id=notice_id,
        notice_type=request.notice_type,
    )  # fmt: skip
    return RecordChange(
        operation="upsert", database="persons", record_ref=record_ref(notice_id),
        owner_office=request.requesting_office, person=wanted, instructions=INSTRUCTIONS[request.notice_type],
        visible_to=visible_to, retention_until=expires_at,
    )  # fmt: skip


async def on_notice_published(
    uow: UnitOfWork, notice_id: str, request: NoticeRequest, *, recipients: list[str], expires_at: datetime | None,
    message_id: str,
) -> None:  # fmt: skip
    """Inside the publication's unit of work: store the person record (if any) and pass it to the copies."""
    ctx = uow.ctx
    countries = {o.id: o.country for o in ctx.directory.offices.values()}
    change = person_change(notice_id, request, recipients=recipients, countries=countries, expires_at=expires_at)
    if change is None:
        return
    applied = await store.apply_change(uow.conn, change, source_message_id=message_id, now=ctx.clock.now())
    assert applied is not None  # an upsert always applies
    await fan_out(uow, change, applied, message_id)
    uow.audit(AuditEvent(event="record-change", result="stored", message_id=message_id, sender=ctx.office.id,
                         detail=f"{applied.record_id} revision {applied.revision} from notice {notice_id}"))  # fmt: skip


async def on_notice_ended(uow: UnitOfWork, notice_id: str, request: NoticeRequest, *, message_id: str) -> None:
    """Inside a cancellation's unit of work: the notice's person record goes, at the GS and in the copies."""
    ctx = uow.ctx
    rid = store.record_id("persons", request.requesting_office, record_ref(notice_id))
    applied = await store.remove_record(uow.conn, "persons", rid)
    if applied is None:
        return
    change = RecordChange(
        operation="cancel", database="persons", record_ref=record_ref(notice_id), owner_office=request.requesting_office
    )
    await fan_out(uow, change, applied, message_id)
    uow.audit(AuditEvent(event="record-change", result="removed", message_id=message_id, sender=ctx.office.id,
                         detail=f"{rid} revision {applied.revision}: notice {notice_id} cancelled"))  # fmt: skip
