"""What an office records: one AuditEvent per envelope sent or received and per security decision."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from interpol_mesh.audit.tables import DIGEST_LEN, EVENT_LEN, ID_LEN, RESULT_LEN
from interpol_mesh.clock import utc

# The events the mesh writes today; `event` stays an open string so a new kind of decision
# does not need a schema change.
ENVELOPE_SENT: Final = "envelope-sent"
ENVELOPE_RECEIVED: Final = "envelope-received"
REJECTED: Final = "rejected"
QUARANTINED: Final = "quarantined"
AUTH_FAILURE: Final = "auth-failure"
KEY_CHANGE: Final = "key-change"
ACKNOWLEDGED: Final = "acknowledged"  # a staff member marked a received message read-and-actioned
TOKEN_ISSUED: Final = "token-issued"  # a CCC supervisor issued a staff token for an operator
HIT_UNCONFIRMED: Final = "hit-unconfirmed"  # the CCC could not confirm a hit report's notice

# `result` for the ordinary outcomes (`acknowledged` is also the result of its own event);
# anything else is a rejection reason code.
ACCEPTED: Final = "accepted"
SENT: Final = "sent"
OK: Final = "ok"


def _storable(value: str, limit: int | None = None) -> str:
    """Text PostgreSQL and SQLite both store as is: no NUL, valid UTF-8, within the column.

    Audit records are written inside the transaction that stores the message; a hostile field
    must never make that transaction fail, so it is cleaned here rather than refused.
    """
    clean = value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if limit is not None and len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    return clean


def _cut(limit: int) -> AfterValidator:
    return AfterValidator(lambda v: None if v is None else _storable(v, limit))


class AuditEvent(BaseModel):
    """One audit record before it is chained; `at` defaults to the append time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event: Annotated[str, _cut(EVENT_LEN), Field(min_length=1)]
    result: Annotated[str, _cut(RESULT_LEN), Field(min_length=1)]
    message_id: Annotated[str | None, _cut(ID_LEN)] = None
    digest: Annotated[str | None, _cut(DIGEST_LEN)] = None
    sender: Annotated[str | None, _cut(ID_LEN)] = None
    recipients: list[Annotated[str, _cut(ID_LEN)]] = Field(default_factory=list)
    at: Annotated[datetime | None, AfterValidator(lambda v: None if v is None else utc(v))] = None
    detail: Annotated[str, AfterValidator(_storable)] = ""
