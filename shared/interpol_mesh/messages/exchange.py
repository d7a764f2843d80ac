"""Direct exchanges between offices: diffusions, messages, hit reports and receipts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from interpol_mesh.ids import MessageId
from interpol_mesh.messages.common import NoticeType, Offence, Person, Strict, Timestamp


class Diffusion(Strict):
    """Sent by an NCB straight to chosen countries or regions; reviewed after the fact, not before."""

    diffusion_type: Literal["wanted-person", "missing-person", "information", "alert"]
    title: str = Field(..., min_length=1, max_length=300)
    text: str = Field(..., min_length=1, max_length=20000)
    person: Person | None = None
    offence: Offence | None = None
    requested_action: str | None = Field(None, max_length=2000)


class FreeTextMessage(Strict):
    """A free-text message or a request for assistance."""

    title: str = Field(..., min_length=1, max_length=300)
    text: str = Field(..., min_length=1, max_length=20000)
    request_for_assistance: bool = False
    references: tuple[MessageId, ...] = Field((), description="Message or notice ids this refers to")


class HitReport(Strict):
    """A frontline match against a notice, from the NCB where it happened."""

    notice_id: MessageId
    notice_type: NoticeType
    requesting_office: str
    hit_at: Timestamp
    country: str = Field(..., min_length=2, max_length=2)
    place: str = Field(..., min_length=1, max_length=300)
    description: str = Field(..., min_length=1, max_length=4000)
    subject_detained: bool = False


class Receipt(Strict):
    """Proof of delivery or acknowledgement, carrying the digest of exactly what was received."""

    receipt_type: Literal["delivered", "acknowledged"]
    for_message_id: MessageId
    digest: str = Field(..., pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the envelope bytes received")
    at: Timestamp
