"""The signed header: who sent what to whom, when, in which language and how urgently."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from interpol_mesh.messages import Kind, Priority

BCP47 = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"


class Header(BaseModel):
    """Signed together with the body: nothing outside the signature is trusted by a receiver."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_id: str = Field(..., min_length=1, max_length=36)
    kind: Kind
    sender: str
    recipients: tuple[str, ...] = Field(..., min_length=1)
    created_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    language: str = Field(..., pattern=BCP47, description="BCP 47 tag, e.g. fr-FR, es-419, ar-EG")
    priority: Priority = "routine"
    correlation_id: str | None = Field(None, max_length=64)


class SignedContent(BaseModel):
    """The exact bytes that are signed decode to this: the header and the kind's body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    header: Header
    body: dict[str, Any]
