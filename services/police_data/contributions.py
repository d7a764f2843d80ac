"""GS: a `record-change` from its owner, checked against the owner rules, then stored and passed on to the national copies that may see it.

The envelope has verified (the sender is who the subject and signature say); these are the rules
of the databases themselves. A change that breaks one is refused with a reason code, audited as
`record-refused` and logged without the record's content; the consumer goes on, and the message
stays in the inbox as received, so the refusal is traceable to the exact bytes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from interpol_mesh.audit import AuditEvent
from interpol_mesh.directory import Directory
from interpol_mesh.envelope import Verified
from interpol_mesh.messages.records import RecordChange
from interpol_mesh.messaging.unit_of_work import UnitOfWork
from interpol_offices.police_data import store
from interpol_offices.police_data.errors import FieldError
from interpol_offices.police_data.national_copy import fan_out
from interpol_offices.police_data.vin import check_vin

log = logging.getLogger(__name__)

NOTICE_REF_PREFIX = "notice-"  # notice_feed.record_ref: the GS writes these, from the notice itself
MAX_RETENTION = store.DEFAULT_RETENTION + timedelta(days=1)  # a day of slack for the owner's clock

REFUSALS = {
    "not-an-ncb": "only an NCB owns records",
    "not-the-owner": "owner_office is not the sender",
    "not-the-issuing-country": "only the issuing country adds or cancels its travel documents",
    "retention-too-long": "retention_until is more than 5 years ahead",
    "copy-fields-set": "revision and source_message_id are the GS's to set",
    "invalid-identifier": "the VIN's check digit (or another identifier) is wrong",
    "fed-by-a-notice": "a notice's person record follows its notice: change or cancel the notice",
}


def refusal_of(change: RecordChange, sender: str, directory: Directory, now: datetime) -> str | None:
    """The reason code this change breaks, or None; the same rules the NCB's API applies before sending."""
    office = directory.offices.get(sender)
    if office is None or office.kind != "ncb":
        return "not-an-ncb"
    if change.owner_office != sender:
        return "not-the-owner"
    if change.revision is not None or change.source_message_id is not None:
        return "copy-fields-set"
    if change.database == "persons" and change.record_ref.startswith(NOTICE_REF_PREFIX):
        return "fed-by-a-notice"
    if change.document is not None and change.document.issuing_country != office.country:
        return "not-the-issuing-country"
    if change.retention_until is not None and change.retention_until > now + MAX_RETENTION:
        return "retention-too-long"
    if change.vehicle is not None and change.vehicle.vin is not None:
        try:
            check_vin(change.vehicle.vin, field="vehicle.vin")
        except FieldError:
            return "invalid-identifier"
    return None


async def on_record_change(uow: UnitOfWork, verified: Verified) -> None:
    ctx = uow.ctx
    change = verified.body
    assert isinstance(change, RecordChange)
    header = verified.header
    now = ctx.clock.now()
    code = refusal_of(change, header.sender, ctx.directory, now)
    if code is not None:
        log.warning("record-change %s from %s refused: %s", header.message_id, header.sender, code)
        uow.audit(
            AuditEvent(event="record-refused", result=code, message_id=header.message_id, sender=header.sender,
                       digest=verified.digest, detail=f"{change.database} {change.operation}: {REFUSALS[code]}")
        )  # fmt: skip
        return
    applied = await store.apply_change(uow.conn, change, source_message_id=header.message_id, now=now)
    rid = store.record_id(change.database, change.owner_office, change.record_ref)
    result = "nothing-to-cancel" if applied is None else "removed" if applied.removed else "stored"
    if applied is not None:
        await fan_out(uow, change, applied, header.message_id)
    uow.audit(
        AuditEvent(event="record-change", result=result, message_id=header.message_id, sender=header.sender,
                   digest=verified.digest, detail=f"{rid} revision {applied.revision if applied else '-'}")
    )  # fmt: skip
