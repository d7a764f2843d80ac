"""The signed header: who sent what to whom, when, in which language and how urgently."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from interpol_mesh.ids import MessageId
from interpol_mesh.messages import Kind, Priority
from interpol_mesh.messages.common import Timestamp

BCP47 = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
LANGUAGE_TAG_MAX = 35  # what the inbox column holds
MAX_CLOCK_SKEW = timedelta(minutes=5)  # how far a signed time may be ahead of the clock that judges it


class Header(BaseModel):
    """Signed together with the body: nothing outside the signature is trusted by a receiver."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_id: MessageId
    kind: Kind
    sender: str
    recipients: tuple[Annotated[str, Field(min_length=1, max_length=40)], ...] = Field(
        ...,
        min_length=1,
        json_schema_extra={"uniqueItems": True},
        description="Office ids, each once; every one must be an office of the receiver's directory",
    )
    created_at: Timestamp
    expires_at: Timestamp | None = Field(None, description="After created_at")
    language: str = Field(
        ..., pattern=BCP47, max_length=LANGUAGE_TAG_MAX, description="BCP 47 tag, e.g. fr-FR, es-419, ar-EG"
    )
    priority: Priority = "routine"
    correlation_id: MessageId | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Header:
        """A signed header that contradicts itself is a forgery or a bug: it is refused, not guessed at."""
        if len(set(self.recipients)) != len(self.recipients):
            raise ValueError("recipients must be distinct")
        if self.expires_at is not None and self.expires_at <= self.created_at:
            raise ValueError("expires_at must be after created_at")
        return self


B = TypeVar("B", bound=BaseModel)


class SignedOf(BaseModel, Generic[B]):
    """The exact signed bytes decode to this: the header and the body of its kind, checked in one strict parse."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    header: Header
    body: B
