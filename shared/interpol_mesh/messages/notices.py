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


class NoticeEvent(Strict):
    """Published, updated or cancelled notice, sent by the General Secretariat to the recipients."""

    event: Literal["published", "updated", "cancelled"]
    notice_id: MessageId
    notice_type: NoticeType
    requesting_office: str
    notice: NoticeRequest
    published_at: Timestamp
    expires_at: Timestamp | None = None
    reason: str | None = Field(None, max_length=2000)
