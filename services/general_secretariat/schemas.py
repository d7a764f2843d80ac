"""Request and response bodies of the GS review API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from interpol_mesh.app.inputs import ApiInput
from interpol_mesh.notices import Screening

NON_BLANK = r"\S"


class ReviewDecision(ApiInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"decision": "publish", "reviewer": "ndtf.martin", "reason": "Ordinary-law homicide; thresholds met."},
                {
                    "decision": "refuse",
                    "reviewer": "ndtf.haddad",
                    "reason": "Predominantly political: the conduct described is participation in a protest.",
                },
            ]
        }
    )

    decision: Literal["publish", "refuse"]
    reviewer: str = Field(..., min_length=1, max_length=80, pattern=NON_BLANK, description="Who decides (recorded)")
    reason: str | None = Field(
        None,
        max_length=2000,
        description="Required to refuse (the requester is told why) and to publish a notice whose screening "
        "did not pass: Article 3 flags or type conditions not met",
    )


class CancelRequest(ApiInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "Person arrested and extradited on 2026-02-01.", "reviewer": "ndtf.martin"}]
        }
    )

    reason: str = Field(..., min_length=1, max_length=2000, pattern=NON_BLANK, description="Sent to every recipient")
    reviewer: str | None = Field(None, max_length=80)


class DecisionResult(BaseModel):
    notice_id: str
    status: str = Field(..., examples=["published"])
    message_id: str = Field(..., description="The signed notice event or refusal message sent; see GET /v1/sent/{id}")
    recipients: list[str]


class ReviewItem(BaseModel):
    notice_id: str
    notice_type: str
    requesting_office: str
    title: str
    received_at: datetime
    review_due_at: datetime = Field(..., description="DOMAIN.md §2: the GS reviews a request within 24 hours")
    screening: Screening
    request: dict[str, Any]


class ReviewPage(BaseModel):
    items: list[ReviewItem]
    next_cursor: str | None
