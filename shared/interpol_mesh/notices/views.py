"""What the notices API returns, at the GS (authoritative record) and at NCBs (their copies)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from interpol_mesh.clock import utc
from interpol_mesh.notices.screening import Screening


class Signature(BaseModel):
    """One signature over the message a history entry records: a notice is the requester's and the GS's decision."""

    office_id: str
    key_id: str
    role: Literal["requester", "publisher"] = Field(
        ..., description="`requester`: the office that asked for the notice; `publisher`: the General Secretariat"
    )


class HistoryEntry(BaseModel):
    """One status change or exchange about the notice; `message_id` opens it in /v1/inbox or /v1/sent."""

    at: datetime
    action: str = Field(..., examples=["published"])
    status: str = Field(..., description="Status after this entry")
    actor: str | None = Field(None, description="Reviewer, office id, or `screening`")
    reason: str | None = None
    message_id: str | None = None
    signers: list[Signature] = Field(
        default_factory=list, description="Who signed the message of this entry (empty: no signed message)"
    )


class NoticeSummary(BaseModel):
    notice_id: str = Field(..., description="The message id of the original notice request")
    notice_type: str
    status: str
    requesting_office: str
    title: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    expires_at: datetime | None


class NoticeDetail(NoticeSummary):
    request: dict[str, Any] = Field(..., description="The notice as requested (NoticeRequest)")
    distribution: dict[str, Any]
    screening: Screening | None = Field(None, description="GS automatic screening; absent from NCB copies")
    reviewer: str | None
    decision_reason: str | None = Field(None, description="Why the reviewer published or refused")
    history: list[HistoryEntry]


class NoticePage(BaseModel):
    items: list[NoticeSummary]
    next_cursor: str | None


def _when(value: datetime | None) -> datetime | None:
    return utc(value) if value is not None else None


def summary_fields(row: Any) -> dict[str, Any]:
    return {
        "notice_id": row.notice_id,
        "notice_type": row.notice_type,
        "status": row.status,
        "requesting_office": row.requesting_office,
        "title": row.title,
        "created_at": utc(row.created_at),
        "updated_at": utc(row.updated_at),
        "published_at": _when(row.published_at),
        "expires_at": _when(row.expires_at),
    }


def detail_of(row: Any, history: list[Any]) -> NoticeDetail:
    return NoticeDetail(
        **summary_fields(row),
        request=row.request,
        distribution=row.distribution,
        screening=Screening.model_validate(row.screening) if row.screening else None,
        reviewer=row.reviewer,
        decision_reason=row.decision_reason,
        history=[
            HistoryEntry(
                at=utc(h.at),
                action=h.action,
                status=h.status,
                actor=h.actor,
                reason=h.reason,
                message_id=h.message_id,
                signers=[Signature.model_validate(s) for s in h.signers or ()],
            )
            for h in history
        ],
    )
