"""Request and response models of the CCC operator API, with the examples the console shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from interpol_mesh.app.inputs import ApiInput
from interpol_mesh.messages import Priority
from interpol_offices.ccc_router.cases import Case
from interpol_offices.ccc_router.roster import Roster


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class OperatorView(BaseModel):
    id: str = Field(..., examples=["sg.haddad"])
    name: str
    desk: str = Field(..., examples=["desk.singapore"])
    role: str = Field(..., examples=["operator"])
    languages: list[str] = Field(..., examples=[["ar", "en"]])
    on_shift_now: bool
    open_cases: int


class CaseSummary(BaseModel):
    case_id: str
    title: str
    priority: Priority
    status: str = Field(..., description="dispatched, acknowledged or resolved")
    language: str = Field(..., description="Case language (en, ar, es, fr)")
    queue_language: str = Field(..., description="Language queue it sits in (en when translation is needed)")
    translation_needed: bool
    desk: str
    assigned_to: str | None
    escalation_level: int
    sender: str | None
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    snoozed_until: datetime | None = Field(
        None, description="Acknowledged and snoozed: the case re-triggers (back to dispatched) then unless resolved"
    )

    @classmethod
    def of(cls, case: Case) -> CaseSummary:
        return cls.model_validate({k: case.data.get(k) for k in cls.model_fields})


class TimelineEvent(BaseModel):
    event_id: int
    at: datetime
    actor: str = Field(..., description="Operator id, office id, or `system` (timers, dispatch)")
    action: str = Field(..., examples=["escalated"])
    reason: str | None
    data: dict[str, Any]


class DeadlineView(BaseModel):
    level: int
    repeat: int
    target: str
    condition: str
    due_at: datetime
    fired_at: datetime | None
    cancelled_at: datetime | None
    outcome: str | None


class LinkView(BaseModel):
    """An envelope joined to this case because it shares a subject (related.py); it opened no case."""

    message_id: str
    at: datetime
    sender: str | None
    kind: str
    priority: Priority = Field(..., description="As intake took it (an unconfirmed hit report counts as routine)")
    title: str
    subjects: list[str] = Field(..., description="The subjects it shares with the case")


class CaseDetail(CaseSummary):
    text: str
    kind: str
    source: str
    message_id: str | None
    reported_by: str | None
    involved: list[str]
    language_tag: str | None
    language_decision: dict[str, Any] = Field(
        ..., description="How the case language was decided (tag, detector, confidence)"
    )
    dispatch: dict[str, Any] = Field(..., description="The dispatch chain as last run: every step tried and why")
    policy: dict[str, Any] = Field(..., description="Escalation policy snapshotted when the case opened")
    escalated_to: str | None
    acknowledged_by: str | None
    sent_at: datetime | None
    dispatched_at: datetime
    version: int
    deadlines: list[DeadlineView]
    timeline: list[TimelineEvent]
    subjects: list[str] = Field(
        ...,
        description="What the case is about: notice:<id>, person:<names>:<birth date>, document:<no>, vehicle:<VIN>",
    )
    links: list[LinkView] = Field(..., description="Envelopes linked to the case; each has a `linked` event too")


class NewCase(ApiInput):
    """A case opened by an operator (phone call, walk-in, e-mail)."""

    model_config = _examples(
        {
            "title": "Appel NCB Paris : enlèvement d'enfant",
            "text": "Le BCN de Paris signale l'enlèvement d'un enfant de 6 ans, possible passage vers l'Espagne ce soir.",
            "priority": "critical",
            "language": "fr-FR",
            "reporting_office": "ncb.fr",
        }
    )

    title: str = Field(..., min_length=1, max_length=300)
    text: str = Field(..., min_length=1, max_length=20000)
    priority: Priority = "urgent"
    language: str | None = Field(None, max_length=35, description="BCP 47 tag; omit to detect from the text")
    reporting_office: str | None = Field(None, description="Office to keep informed (office id)", examples=["ncb.fr"])


class Reason(ApiInput):
    model_config = _examples({"reason": "Subject about to board; duty officer must authorise contact with NCB Madrid"})

    reason: str = Field(..., min_length=3, max_length=2000, description="Why; stored in the case timeline")


class Snooze(ApiInput):
    model_config = _examples({"minutes": 45, "reason": "Waiting for NCB Madrid to confirm the extradition request"})

    minutes: int = Field(
        ..., ge=1, le=7 * 24 * 60, description="From now; at most the case policy's max_snooze_minutes (else 422)"
    )
    reason: str = Field(..., min_length=3, max_length=2000, description="Why; stored in the case timeline")


class Resolution(ApiInput):
    model_config = _examples(
        {"resolution": "Identity confirmed by NCB Riyadh; requesting NCB informed; no further action."}
    )

    resolution: str = Field(..., min_length=3, max_length=2000)


class Reassign(ApiInput):
    model_config = _examples(
        {"operator": "ly.benali", "reason": "Needs an Arabic and French speaker"},
        {"desk": "desk.lyon", "reason": "Requesting NCB works Lyon hours"},
    )

    operator: str | None = Field(None, description="Give the case to this operator")
    desk: str | None = Field(None, description="Or send it to this desk: the dispatch chain picks the operator")
    reason: str = Field(..., min_length=3, max_length=2000)

    @model_validator(mode="after")
    def _one(self) -> Reassign:
        if (self.operator is None) == (self.desk is None):
            raise ValueError("give exactly one of operator or desk")
        return self


class DeskView(BaseModel):
    id: str
    name: str
    city: str
    timezone: str
    shift_utc: str = Field(..., examples=["00:00-08:00"])
    on_duty_now: bool = Field(..., description="The follow-the-sun desk that owns new cases right now")
    on_shift_now: list[str] = Field(..., description="Operators of this desk on shift now")


class DeskQueue(BaseModel):
    desk: str
    queues: dict[str, list[CaseSummary]] = Field(..., description="Open cases by queue language")


class RosterView(BaseModel):
    version: int
    roster: Roster
    override_ids: list[int] = Field(..., description="Ids of API overrides (in the order of roster.overrides' tail)")


class RosterChange(ApiInput):
    roster: Roster
    reason: str = Field(..., min_length=3, max_length=500, examples=["Summer rota from 30 March"])


class OverrideCreated(BaseModel):
    override_id: int
    roster_version: int


class TokenRequest(ApiInput):
    model_config = _examples({"hours": 12, "label": "night shift tablet"})

    hours: int = Field(12, ge=1, le=12, description="Lifetime in hours (a mesh staff token lives at most 12 h)")
    label: str = Field("", max_length=80, description="Kept in the audit record of the issue")


class TokenIssued(BaseModel):
    operator_id: str
    token: str = Field(..., description="A `mesh1.` staff token signed with the CCC's key; not stored anywhere")
    expires_at: datetime


class TokenRevocation(ApiInput):
    model_config = _examples({"reason": "tablet left in a taxi"})

    reason: str = Field(..., min_length=3, max_length=500, description="Why; kept with the cut-off and audited")


class TokensRevoked(BaseModel):
    operator_id: str
    not_before: datetime = Field(
        ..., description="The operator's tokens issued before this (to the second) are refused"
    )


class Refusal(BaseModel):
    detail: str


class RosterRefusal(BaseModel):
    detail: dict[str, Any] = Field(..., examples=[{"reason": "roster: refused, coverage gaps: ...", "gaps": ["..."]}])
