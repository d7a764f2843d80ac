"""GS: a `record-change` from its owner, checked against the owner rules, stored, passed to the copies."""

from __future__ import annotations

from interpol_mesh.envelope import Verified
from interpol_mesh.messaging.unit_of_work import UnitOfWork

# Refusal codes of a change that verified as an envelope but breaks the owner rules (audited
# `record-refused`, logged without the record's content; the consumer goes on).
REFUSALS = {
    "not-an-ncb": "only an NCB owns records",
    "not-the-owner": "owner_office is not the sender",
    "not-the-issuing-country": "only the issuing country adds or cancels its travel documents",
    "retention-too-long": "retention_until is more than 5 years ahead",
    "copy-fields-set": "revision and source_message_id are the GS's to set",
    "invalid-identifier": "the VIN's check digit (or another identifier) is wrong",
}


async def on_record_change(uow: UnitOfWork, verified: Verified) -> None:
    raise NotImplementedError
