"""Service-to-service exchange API that every office has: send, inbox, acknowledge, status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.app.inputs import ApiInput, language_field
from interpol_mesh.app.limits import BodyLimits, batch_body_bytes
from interpol_mesh.auth.deps import OFFICER, requires
from interpol_mesh.directory import UnknownOffice
from interpol_mesh.ids import MessageId
from interpol_mesh.messages import Diffusion, FreeTextMessage, Priority
from interpol_mesh.messaging.inbox import (
    InboxMessage,
    InboxPage,
    QuarantineItem,
    QuarantineSummary,
    SentStatus,
    acknowledge,
    list_inbox,
    list_quarantine,
    quarantine_summary,
    read_message,
    sent_status,
)
from interpol_mesh.messaging.outbound import Outgoing, compose

router = APIRouter(prefix="/v1", tags=["exchange"], dependencies=[requires(OFFICER)])

LANG = language_field("es-AR")


class Accepted(BaseModel):
    message_id: str = Field(..., description="Time-ordered id of the signed envelope")
    recipients: list[str]
    digest_sha256: str

    @classmethod
    def of(cls, out: Outgoing) -> Accepted:
        h = out.header
        return cls(message_id=h.message_id, recipients=list(h.recipients), digest_sha256=out.sealed.digest)


class DiffusionSend(ApiInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "recipients": ["ncb.br", "ncb.es"],
                    "language": "es-AR",
                    "priority": "urgent",
                    "body": {
                        "diffusion_type": "wanted-person",
                        "title": "Búsqueda: sospechoso de fraude transnacional",
                        "text": "Se solicita localizar a la persona indicada; orden de detención vigente.",
                        "person": {
                            "family_name": "PEREZ",
                            "given_names": "Juan",
                            "sex": "male",
                            "nationalities": ["AR"],
                        },
                        "requested_action": "Localizar e informar; no detener sin orden.",
                    },
                }
            ]
        }
    )

    recipients: list[str] = Field(..., min_length=1, description="Office ids, `region:<name>` or `all-ncbs`")
    language: str | None = LANG
    priority: Priority = "routine"
    body: Diffusion


class MessageSend(ApiInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "recipients": ["ncb.de"],
                    "language": "en",
                    "priority": "routine",
                    "body": {
                        "title": "Request for assistance",
                        "text": "Please confirm the registration of vehicle WDB123.",
                        "request_for_assistance": True,
                    },
                }
            ]
        }
    )

    recipients: list[str] = Field(..., min_length=1, description="Office ids, `region:<name>` or `all-ncbs`")
    language: str | None = LANG
    priority: Priority = "routine"
    correlation_id: MessageId | None = Field(None, description="Id of the message, notice or case this relates to")
    body: FreeTextMessage


async def commit_outgoing(ctx: CtxDep, *outs: Outgoing) -> None:
    """In one unit of work, group-committed with concurrent requests (see messaging/group_writer.py)."""
    assert ctx.writer is not None, "the office is not started"
    await ctx.writer.submit(list(outs))


def resolve_recipients(ctx: CtxDep, targets: list[str]) -> list[str]:
    try:
        recipients = [r for r in ctx.directory.expand(targets) if r != ctx.office.id]
    except UnknownOffice as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    if not recipients:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "no recipient besides this office")
    return recipients


@router.post("/diffusions", status_code=202, response_model=Accepted, summary="Send a diffusion to chosen offices")
async def send_diffusion(req: DiffusionSend, ctx: CtxDep) -> Accepted:
    """Signed, stored and queued (committed) before 202: it reaches the bus even if this office crashes now."""
    recipients = resolve_recipients(ctx, req.recipients)
    out = compose(
        ctx, kind="diffusion", recipients=recipients, body=req.body, language=req.language, priority=req.priority
    )
    await commit_outgoing(ctx, out)
    return Accepted.of(out)


def compose_message(ctx: CtxDep, req: MessageSend, recipients: list[str]) -> Outgoing:
    return compose(
        ctx, kind="message", recipients=recipients, body=req.body, language=req.language,
        priority=req.priority, correlation_id=req.correlation_id,
    )  # fmt: skip


@router.post("/messages", status_code=202, response_model=Accepted, summary="Send a message or request for assistance")
async def send_message(req: MessageSend, ctx: CtxDep) -> Accepted:
    out = compose_message(ctx, req, resolve_recipients(ctx, req.recipients))
    await commit_outgoing(ctx, out)
    return Accepted.of(out)


MAX_BATCH = 200
MAX_BATCH_DELIVERIES = 2000  # messages x recipients: one request must not become one huge transaction
BATCH_BODY_BYTES = batch_body_bytes(MAX_BATCH)
BODY_LIMITS: BodyLimits = {("POST", "/v1/messages/batch"): BATCH_BODY_BYTES}


class MessageBatch(ApiInput):
    messages: list[MessageSend] = Field(
        ...,
        min_length=1,
        max_length=MAX_BATCH,
        description=f"1 to {MAX_BATCH} messages, each as for `POST /v1/messages`; the body at most {BATCH_BODY_BYTES} bytes",
    )


class BatchAccepted(BaseModel):
    accepted: list[Accepted] = Field(..., description="In the order of the request")


@router.post(
    "/messages/batch",
    status_code=202,
    response_model=BatchAccepted,
    summary="Send many messages in one request (national gateways forwarding a queue)",
)
async def send_message_batch(req: MessageBatch, ctx: CtxDep) -> BatchAccepted:
    """All or nothing: every message is checked first; one bad recipient refuses the whole batch
    with its index, and the accepted ones are committed in one transaction before 202.

    Each message is still its own signed envelope with its own id, receipts and audit record; only
    the HTTP request and the database commit are shared, which is what a gateway forwarding a
    national queue needs to go faster than one request per message.
    """
    resolved = []
    for i, item in enumerate(req.messages):
        try:
            resolved.append(resolve_recipients(ctx, item.recipients))
        except HTTPException as exc:
            raise HTTPException(exc.status_code, f"messages[{i}]: {exc.detail}") from None
    deliveries = sum(len(r) for r in resolved)
    if deliveries > MAX_BATCH_DELIVERIES:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{deliveries} deliveries (messages x recipients) in one batch; at most {MAX_BATCH_DELIVERIES}: split it",
        )
    outs = [compose_message(ctx, item, recipients) for item, recipients in zip(req.messages, resolved, strict=True)]
    await commit_outgoing(ctx, *outs)
    return BatchAccepted(accepted=[Accepted.of(o) for o in outs])


CURSOR = r"^[0-9]{1,18}$"  # an arrival sequence number, as given in next_cursor


@router.get("/inbox", response_model=InboxPage, summary="List received messages (newest first, paged)")
async def get_inbox(
    ctx: CtxDep,
    kind: Annotated[str | None, Query(examples=["diffusion"])] = None,
    notice_type: Annotated[str | None, Query(examples=["red"])] = None,
    language: Annotated[str | None, Query(description="en, ar, es, fr or a full tag", examples=["fr"])] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    include_receipts: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page", pattern=CURSOR)] = None,
) -> InboxPage:
    async with ctx.engine.connect() as conn:
        return await list_inbox(
            conn, kind=kind, notice_type=notice_type, language=language, since=since, until=until,
            include_receipts=include_receipts, limit=limit, cursor=cursor,
        )  # fmt: skip


@router.get("/inbox/{message_id}", response_model=InboxMessage, summary="Read one message with its verification record")
async def get_message(message_id: str, ctx: CtxDep) -> InboxMessage:
    async with ctx.engine.connect() as conn:
        message = await read_message(conn, message_id)
    if message is None:
        raise HTTPException(404, f"no message {message_id} in this inbox")
    return message


class Acknowledged(BaseModel):
    message_id: str
    acknowledged_at: datetime


@router.post("/inbox/{message_id}/acknowledge", response_model=Acknowledged, summary="Acknowledge a message")
async def post_acknowledge(message_id: str, ctx: CtxDep) -> Acknowledged:
    """Sends a signed `acknowledged` receipt to the sender; repeating it is harmless."""
    async with ctx.transaction() as uow:
        when = await acknowledge(uow, message_id)
    if when is None:
        raise HTTPException(404, f"no message {message_id} in this inbox")
    return Acknowledged(message_id=message_id, acknowledged_at=when)


@router.get("/sent/{message_id}", response_model=SentStatus, summary="Per-recipient delivery of a sent message")
async def get_sent(message_id: str, ctx: CtxDep) -> SentStatus:
    async with ctx.engine.connect() as conn:
        result = await sent_status(conn, message_id)
    if result is None:
        raise HTTPException(404, f"no sent message {message_id}")
    return result


@router.get("/quarantine", response_model=list[QuarantineItem], summary="Rejected messages with their reasons")
async def get_quarantine(
    ctx: CtxDep, reason: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[QuarantineItem]:
    async with ctx.engine.connect() as conn:
        return await list_quarantine(conn, reason, limit)


@router.get("/quarantine/summary", response_model=QuarantineSummary, summary="Rejected messages counted by reason")
async def get_quarantine_summary(ctx: CtxDep) -> QuarantineSummary:
    async with ctx.engine.connect() as conn:
        return await quarantine_summary(conn)
