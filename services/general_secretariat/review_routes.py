"""GS review API: the queue of requests awaiting a human, decisions, and cancellation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.auth.deps import REVIEWER, requires
from interpol_mesh.clock import utc
from interpol_mesh.messages import NoticeType
from interpol_mesh.notices import InvalidTransition, Screening
from interpol_mesh.notices import store as notices
from interpol_offices.general_secretariat import review
from interpol_offices.general_secretariat.schemas import (
    CancelRequest,
    DecisionResult,
    ReviewDecision,
    ReviewItem,
    ReviewPage,
)

router = APIRouter(prefix="/v1", tags=["review"], dependencies=[requires(REVIEWER)])

REVIEW_WITHIN = timedelta(hours=24)  # DOMAIN.md §2 "Draft Red Notice": the GS reviews it within 24 h


@asynccontextmanager
async def _http_errors() -> AsyncIterator[None]:
    """Map review outcomes to HTTP: unknown 404, wrong status 409, unacceptable decision 422."""
    try:
        yield
    except review.NoticeNotFound as exc:
        raise HTTPException(404, f"no notice {exc}") from None
    except InvalidTransition as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except review.DecisionNotAllowed as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


@router.get("/review-queue", response_model=ReviewPage, summary="Notice requests awaiting a reviewer (oldest first)")
async def get_review_queue(
    ctx: CtxDep,
    notice_type: Annotated[NoticeType | None, Query(examples=["red"])] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> ReviewPage:
    """Every request not refused for missing fields lands here with its screening: nothing is published
    without a reviewer, and Article 3 flags are only pointers for that reviewer, never a verdict."""
    async with ctx.engine.connect() as conn:
        rows, next_cursor = await notices.pending_review(conn, notice_type=notice_type, limit=limit, cursor=cursor)
    items = [
        ReviewItem(
            notice_id=r.notice_id,
            notice_type=r.notice_type,
            requesting_office=r.requesting_office,
            title=r.title,
            received_at=utc(r.created_at),
            review_due_at=utc(r.created_at) + REVIEW_WITHIN,
            screening=Screening.model_validate(r.screening),
            request=r.request,
        )
        for r in rows
    ]
    return ReviewPage(items=items, next_cursor=next_cursor)


@router.post(
    "/notices/{notice_id}/decision", response_model=DecisionResult, summary="Publish or refuse a notice request"
)
async def post_decision(notice_id: str, req: ReviewDecision, ctx: CtxDep) -> DecisionResult:
    """`publish` sends a signed `notice-event` to every NCB the requester's distribution allows (and to the
    requester and the CCC, which confirms hit reports against it); excluded NCBs never receive the bytes. `refuse` sends the requester a signed message with
    the reason. A request whose screening did not pass (Article 3 flags, conditions not met) is published
    only with a reason; one with missing required fields cannot be published at all."""
    async with _http_errors(), ctx.transaction() as uow:
        outcome = await review.decide(uow, notice_id, decision=req.decision, reviewer=req.reviewer, reason=req.reason)
    return DecisionResult(**asdict(outcome))


@router.post("/notices/{notice_id}/cancel", response_model=DecisionResult, summary="Cancel a published notice")
async def post_cancel(notice_id: str, req: CancelRequest, ctx: CtxDep) -> DecisionResult:
    """Sends a signed `cancelled` event with the reason to exactly the offices that received the publication."""
    async with _http_errors(), ctx.transaction() as uow:
        outcome = await review.cancel(uow, notice_id, reason=req.reason, reviewer=req.reviewer)
    return DecisionResult(**asdict(outcome))
