"""Request and response bodies of the NCB's notice and hit API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from interpol_mesh.app.inputs import ApiInput, language_field
from interpol_mesh.messages import NoticeRequest, Priority
from interpol_mesh.messages.common import Timestamp
from interpol_mesh.messages.notices import NoticeContent
from interpol_mesh.notices import Issue

LANG = language_field("fr-FR")


class NoticeDraft(NoticeContent):
    """A NoticeRequest without `requesting_office`: that is always the NCB that signs it."""

    def for_office(self, office_id: str) -> NoticeRequest:
        return NoticeRequest.model_validate({**self.model_dump(), "requesting_office": office_id})


RED_NOTICE_EXAMPLE: JsonDict = {
    "language": "fr-FR",
    "priority": "urgent",
    "body": {
        "notice_type": "red",
        "title": "Recherché pour homicide volontaire",
        "person": {"family_name": "DUPONT", "given_names": "Marc", "sex": "male", "nationalities": ["FR"]},
        "person_status": "charged",
        "offence": {
            "description": "Homicide volontaire commis à Lyon le 3 mars 2025.",
            "category": "homicide",
            "law_reference": "Code pénal, art. 221-1",
            "max_penalty_years": 30,
        },
        "purpose": "Localiser et arrêter provisoirement en vue d'extradition.",
        "legal_basis": "Mandat d'arrêt du juge d'instruction de Lyon",
        "arrest_warrant": {
            "reference": "MA-2025-0042",
            "issuing_authority": "Tribunal judiciaire de Lyon",
            "issued_on": "2025-03-10",
        },
        "distribution": {"mode": "deny", "countries": ["DE"]},
    },
}


class NoticeRequestSend(ApiInput):
    model_config = ConfigDict(json_schema_extra={"examples": [RED_NOTICE_EXAMPLE]})

    language: str | None = LANG
    priority: Priority = "routine"
    body: NoticeDraft


class Preliminary(BaseModel):
    """This office's own run of the GS screening rules, so a gap is seen before the GS answers.

    The GS screens again and is authoritative. Article 3 flags are not echoed back: they are for
    the GS reviewer, and a requester tuning its wording against the lexicon would defeat the screen.
    """

    missing: list[str]
    threshold_issues: list[Issue]


class NoticeRequested(BaseModel):
    notice_id: str = Field(..., description="The message id of the signed request; the notice keeps it for life")
    status: str = Field(..., examples=["submitted"])
    recipients: list[str]
    digest_sha256: str
    preliminary: Preliminary


class HitDraft(ApiInput):
    """A hit on a notice this office holds; type and requesting office are taken from the held copy."""

    model_config = ConfigDict(extra="forbid")

    notice_id: str
    hit_at: Timestamp
    country: str | None = Field(None, min_length=2, max_length=2, description="Default: this NCB's country")
    place: str = Field(..., min_length=1, max_length=300)
    description: str = Field(..., min_length=1, max_length=4000)
    subject_detained: bool = False


class HitSend(ApiInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "language": "es-ES",
                    "priority": "urgent",
                    "body": {
                        "notice_id": "0199a1b2-0000-7000-8000-000000000000",
                        "hit_at": "2026-01-05T10:30:00Z",
                        "place": "Aeropuerto Adolfo Suárez Madrid-Barajas, control de pasaportes",
                        "description": "Coincidencia de pasaporte y huellas; persona retenida por la Policía Nacional.",
                        "subject_detained": True,
                    },
                }
            ]
        }
    )

    language: str | None = LANG
    priority: Priority = "urgent"
    body: HitDraft


class HitSent(BaseModel):
    message_id: str
    recipients: list[str]
    digest_sha256: str
