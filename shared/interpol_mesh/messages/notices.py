"""Notice request and the notice events the General Secretariat publishes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from interpol_mesh.ids import MessageId
from interpol_mesh.messages.common import (
    ArrestWarrant,
    Distribution,
    NoticeType,
    ObjectSubject,
    Offence,
    Person,
    PersonStatus,
    Strict,
    Timestamp,
)


class NoticeContent(Strict):
    """What a notice says; an NCB's draft is exactly this, before it is attributed to the NCB."""

    notice_type: NoticeType
    title: str = Field(..., min_length=1, max_length=300)
    person: Person | None = None
    object: ObjectSubject | None = None
    person_status: PersonStatus = "not-applicable"
    offence: Offence | None = None
    purpose: str = Field(..., min_length=1, max_length=4000, description="What the requesting office asks for")
    legal_basis: str | None = Field(None, max_length=1000)
    arrest_warrant: ArrestWarrant | None = None
    distribution: Distribution = Distribution()


class NoticeRequest(NoticeContent):
    """An NCB asks the General Secretariat to publish a notice; nothing is published unreviewed."""

    requesting_office: str


class EnvelopeSignature(Strict):
    keyid: str = Field(..., min_length=1, max_length=200)
    sig: str = Field(..., min_length=1, max_length=200, description="standard base64 of the Ed25519 signature")


class SignedRequest(Strict):
    """The requesting office's own DSSE envelope of its `notice-request`, carried inside a notice event.

    A Red Notice is two decisions: the requesting country's and the General Secretariat's. The outer
    envelope's signature proves the second; this one, verified by every recipient against the
    requesting office's key, proves the first. `payload` is the base64 of the exact bytes the office
    signed, so nothing is re-serialised and the signature checks byte for byte.
    """

    payloadType: str = Field(..., max_length=200)  # the DSSE field names, as on the wire
    payload: str = Field(..., max_length=200_000)
    signatures: tuple[EnvelopeSignature, ...] = Field(..., min_length=1, max_length=4)


class NoticeEvent(Strict):
    """Published, updated or cancelled notice, sent by the General Secretariat to the recipients.

    `request` is the requesting office's signed notice request, as the GS received it: required when
    a notice is published or updated (the signer policy, `interpol_mesh.envelope.signers`), optional
    on a cancellation, which the GS may decide alone.
    """

    event: Literal["published", "updated", "cancelled"]
    notice_id: MessageId
    notice_type: NoticeType
    requesting_office: str
    notice: NoticeRequest
    published_at: Timestamp
    expires_at: Timestamp | None = None
    reason: str | None = Field(None, max_length=2000)
    request: SignedRequest | None = None
