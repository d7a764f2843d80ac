"""How the GS tells a requesting office that its notice request was refused, and how the office reads it.

The v1 wire contract has no `refused` notice event (NoticeEvent.event is published, updated or
cancelled, and a new value would be rejected by v1 receivers), so a refusal is a signed `message`
to the requester only: correlation_id = the notice id, references = (notice id,) and a fixed
title marker. Other GS messages about a pending request (for example asking for documents) do
not carry the marker and leave the request's status alone.
"""

from __future__ import annotations

from interpol_mesh.envelope import Header
from interpol_mesh.messages import FreeTextMessage
from interpol_mesh.notices.screening import Screening

REFUSAL_TITLE = "Notice request refused"


def refusal_message(notice_id: str, title: str, reason: str, screening: Screening | None) -> FreeTextMessage:
    """The refusal sent to the requester: the reason first, then what the automatic screening found."""
    lines = [reason]
    if screening is not None and screening.missing:
        lines.append("Missing required fields: " + ", ".join(screening.missing) + ".")
    if screening is not None and screening.threshold_issues:
        lines.append(
            "Conditions not met: " + "; ".join(f"{i.field}: {i.detail}" for i in screening.threshold_issues) + "."
        )
    return FreeTextMessage(
        title=f"{REFUSAL_TITLE}: {title}"[:300],
        text="\n".join(lines)[:20000],
        references=(notice_id,),
    )


def refused_notice(header: Header, body: FreeTextMessage, gs_id: str) -> str | None:
    """The notice id this message refuses, if it is a refusal from the General Secretariat."""
    if header.sender != gs_id or not header.correlation_id or not body.title.startswith(REFUSAL_TITLE):
        return None
    if header.correlation_id not in body.references:
        return None
    return header.correlation_id
