"""Operator console, case side: my queue, case detail with timeline, and the case actions.

Thin edge: authenticate, check the desk rule, call the workflow in one unit of work, return
the case as it now stands. Every refusal is a 4xx whose `detail` says why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.app import CtxDep
from interpol_mesh.auth import refused
from interpol_mesh.messages import Priority
from interpol_mesh.messaging import OfficeContext, UnitOfWork
from interpol_offices.ccc_router import ack_timeout, cases, related
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.auth import OperatorDep, may_act_on
from interpol_offices.ccc_router.cases import Case, CaseError
from interpol_offices.ccc_router.roster import Operator
from interpol_offices.ccc_router.runtime import runtime_of
from interpol_offices.ccc_router.schemas import (
    CaseDetail,
    CaseSummary,
    NewCase,
    OperatorView,
    Reason,
    Reassign,
    Refusal,
    Resolution,
    Snooze,
)
from interpol_offices.ccc_router.workflow import (
    Intake,
    acknowledge,
    claim,
    escalate,
    open_case,
    reassign_to_operator,
    redispatch,
    resolve,
)

router = APIRouter(prefix="/v1")
MINE = "CCC: my work"
CASES = "CCC: cases"
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": Refusal, "description": "No, invalid or expired token, or its subject is not on the roster"},
    403: {"model": Refusal, "description": "The case is at another desk and you are not a duty officer"},
    404: {"model": Refusal, "description": "No such case"},
    409: {"model": Refusal, "description": "Not possible in the case's current state (the reason says why)"},
}


async def case_detail(conn: AsyncConnection, case_id: str) -> CaseDetail:
    case = await cases.get(conn, case_id)
    return CaseDetail.model_validate(
        {
            **case.data,
            "deadlines": await cases.deadlines_of(conn, case_id),
            "timeline": await cases.timeline(conn, case_id),
            "subjects": await related.subjects_of(conn, case_id),
            "links": await related.links_of(conn, case_id),
        }
    )


class _OtherDesk(Exception):
    """The desk rule refused; raised inside the transaction, audited after it rolled back."""


async def _act(
    request: Request,
    ctx: OfficeContext,
    me: Operator,
    case_id: str,
    action: Callable[[UnitOfWork, Case], Awaitable[Case]],
) -> CaseDetail:
    try:
        async with ctx.transaction() as uow:
            case = await cases.get(uow.conn, case_id)
            allowed, why = may_act_on(me, case)
            if not allowed:
                raise _OtherDesk(why)
            await action(uow, case)
        async with ctx.engine.connect() as conn:
            return await case_detail(conn, case_id)
    except CaseError as exc:
        raise HTTPException(exc.status, exc.reason) from None
    except _OtherDesk as exc:
        raise await refused(request, ctx, 403, "forbidden", str(exc), who=me.id) from None


@router.get(
    "/operators/me",
    tags=[MINE],
    summary="Who am I (from my token)",
    response_model=OperatorView,
    responses={401: ERRORS[401]},
)
async def whoami(ctx: CtxDep, me: OperatorDep) -> OperatorView:
    """Your roster entry, whether the roster has you on shift now, and how many open cases you hold."""
    rt = runtime_of(ctx)
    async with ctx.engine.connect() as conn:
        load = (await cases.open_loads(conn)).get(me.id, 0)
    on_shift = any(d.operator.id == me.id for d in rt.on_shift(ctx.clock.now()))
    return OperatorView.model_validate({**me.model_dump(mode="json"), "on_shift_now": on_shift, "open_cases": load})


@router.get(
    "/queue/mine",
    tags=[MINE],
    summary="My queue: open cases assigned to me",
    response_model=list[CaseSummary],
    responses={401: ERRORS[401]},
)
async def my_queue(ctx: CtxDep, me: OperatorDep) -> list[CaseSummary]:
    """Open cases (dispatched or acknowledged) assigned to you, most urgent first, then oldest first.
    Acknowledge a dispatched case before its first escalation deadline (see the case detail)."""
    async with ctx.engine.connect() as conn:
        found = await cases.find(conn, status=t.OPEN_STATUSES, assigned_to=me.id)
    return [CaseSummary.of(c) for c in found]


@router.post(
    "/cases",
    tags=[CASES],
    status_code=status.HTTP_201_CREATED,
    summary="Open a case (phone call, walk-in, e-mail)",
    response_model=CaseDetail,
    responses={401: ERRORS[401], 422: {"description": "Invalid field or unknown reporting office"}},
)
async def create_case(req: NewCase, ctx: CtxDep, me: OperatorDep) -> CaseDetail:
    """The case goes through the same language decision and dispatch chain as bus intake; leave
    `language` empty to have it detected from the text. It always opens a new case (the operator
    chose to), and the documents and vehicles in its text become its subjects, so later reports
    over the bus about them are linked to it."""
    if req.reporting_office is not None and req.reporting_office not in ctx.directory.offices:
        raise HTTPException(422, f"reporting_office {req.reporting_office!r} is not an office id of the directory")
    intake = Intake(
        source="api", kind="api", title=req.title, text=req.text, priority=req.priority, language_tag=req.language,
        involved=(req.reporting_office,) if req.reporting_office else (), reported_by=me.id,
        subjects=tuple(dict.fromkeys(related.identifier_subjects(f"{req.title}\n{req.text}"))),
    )  # fmt: skip
    async with ctx.transaction() as uow:
        case = await open_case(uow, runtime_of(ctx), intake)
    async with ctx.engine.connect() as conn:
        return await case_detail(conn, case.case_id)


@router.get(
    "/cases", tags=[CASES], summary="Search cases", response_model=list[CaseSummary], responses={401: ERRORS[401]}
)
async def list_cases(
    ctx: CtxDep,
    me: OperatorDep,
    case_status: Annotated[list[str] | None, Query(alias="status", examples=[["dispatched"]])] = None,
    desk: Annotated[str | None, Query(examples=["desk.lyon"])] = None,
    language: Annotated[str | None, Query(description="Queue language", examples=["ar"])] = None,
    priority: Annotated[Priority | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[CaseSummary]:
    """All desks' cases are visible to every operator; acting on them follows the desk rule."""
    async with ctx.engine.connect() as conn:
        found = await cases.find(conn, status=case_status, desk=desk, language=language, priority=priority, limit=limit)
    return [CaseSummary.of(c) for c in found]


@router.get(
    "/cases/{case_id}",
    tags=[CASES],
    summary="Case detail with its full timeline",
    response_model=CaseDetail,
    responses={401: ERRORS[401], 404: ERRORS[404]},
)
async def get_case(case_id: str, ctx: CtxDep, me: OperatorDep) -> CaseDetail:
    """Everything about a case: the language decision, the dispatch chain with each step tried,
    the snapshotted escalation policy, its deadlines (pending, fired, cancelled) and the
    append-only timeline of who did what, when and why."""
    try:
        async with ctx.engine.connect() as conn:
            return await case_detail(conn, case_id)
    except CaseError as exc:
        raise HTTPException(exc.status, exc.reason) from None


@router.post(
    "/cases/{case_id}/claim",
    tags=[MINE],
    summary="Claim a case (assign it to me)",
    response_model=CaseDetail,
    responses=ERRORS,
)
async def post_claim(case_id: str, request: Request, ctx: CtxDep, me: OperatorDep) -> CaseDetail:
    """Take a case from the desk queue or from a colleague; claiming your own case changes nothing."""
    return await _act(request, ctx, me, case_id, lambda uow, case: claim(uow, case, me))


@router.post(
    "/cases/{case_id}/acknowledge",
    tags=[MINE],
    summary="Acknowledge a case",
    response_model=CaseDetail,
    responses=ERRORS,
)
async def post_acknowledge(case_id: str, request: Request, ctx: CtxDep, me: OperatorDep) -> CaseDetail:
    """Stops the `if-not-acked` escalation deadlines and tells the offices involved, signed, in
    their working language."""
    return await _act(request, ctx, me, case_id, lambda uow, case: acknowledge(uow, case, me))


@router.post(
    "/cases/{case_id}/escalate", tags=[MINE], summary="Escalate a case now", response_model=CaseDetail, responses=ERRORS
)
async def post_escalate(case_id: str, req: Reason, request: Request, ctx: CtxDep, me: OperatorDep) -> CaseDetail:
    """Moves the case to the next level of its policy at once (duty officer, then head of desk);
    the timed deadline for that level is cancelled, as each level is paged once."""

    async def act(uow: UnitOfWork, case: Case) -> Case:
        level = case.escalation_level + 1
        if level > len(case.policy["rules"]):
            raise CaseError(f"case {case.case_id} is already at its highest escalation level ({case.escalation_level})")
        return await escalate(uow, runtime_of(ctx), case, level=level, actor=me.id, reason=req.reason)

    return await _act(request, ctx, me, case_id, act)


@router.post(
    "/cases/{case_id}/snooze",
    tags=[MINE],
    summary="Snooze an acknowledged case",
    response_model=CaseDetail,
    responses={**ERRORS, 422: {"model": Refusal, "description": "minutes outside 1..the policy's max_snooze_minutes"}},
)
async def post_snooze(case_id: str, req: Snooze, request: Request, ctx: CtxDep, me: OperatorDep) -> CaseDetail:
    """Acknowledged is not resolved: an acknowledged case re-triggers (back to dispatched, its
    escalation planned again) when its policy's acknowledgement timeout passes. Snoozing replaces
    that timeout by now + `minutes`, with a reason kept in the timeline. Only an acknowledged case
    (409 otherwise)."""
    return await _act(
        request, ctx, me, case_id, lambda uow, case: ack_timeout.snooze(uow, case, me, req.minutes, req.reason)
    )


@router.post(
    "/cases/{case_id}/resolve", tags=[MINE], summary="Resolve a case", response_model=CaseDetail, responses=ERRORS
)
async def post_resolve(case_id: str, req: Resolution, request: Request, ctx: CtxDep, me: OperatorDep) -> CaseDetail:
    """Closes the case, cancels every pending deadline and tells the offices involved."""
    return await _act(request, ctx, me, case_id, lambda uow, case: resolve(uow, case, me, req.resolution))


@router.post(
    "/cases/{case_id}/reassign", tags=[MINE], summary="Reassign a case", response_model=CaseDetail, responses=ERRORS
)
async def post_reassign(case_id: str, req: Reassign, request: Request, ctx: CtxDep, me: OperatorDep) -> CaseDetail:
    """To a named operator (any desk; flagged for translation if they lack the case language),
    or to a desk, where the dispatch chain picks the operator. Escalation deadlines keep running."""
    rt = runtime_of(ctx)

    async def act(uow: UnitOfWork, case: Case) -> Case:
        if req.operator is not None:
            return await reassign_to_operator(uow, rt, case, me, req.operator, req.reason)
        if req.desk not in {d.id for d in ctx.directory.desks}:
            raise CaseError(f"{req.desk!r} is not a CCC desk")
        return await redispatch(uow, rt, case, actor=me.id, action="reassigned", reason=req.reason, primary=req.desk)

    return await _act(request, ctx, me, case_id, act)
