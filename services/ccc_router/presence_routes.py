"""Operator console, presence side: set my state, set a colleague's, and who is present per language.

Thin edge: authenticate, apply the rank and desk rule for a colleague, call `presence.set_state`
in one unit of work (which moves the cases of someone going away), return the state as it stands.
The request and response models live here, next to the only routes that use them.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from interpol_mesh.app import CtxDep
from interpol_mesh.app.inputs import ApiInput
from interpol_mesh.auth import refused
from interpol_offices.ccc_router import presence
from interpol_offices.ccc_router.auth import RANK, OperatorDep, is_supervisor, outranks
from interpol_offices.ccc_router.cases import CaseError
from interpol_offices.ccc_router.presence import Source, State
from interpol_offices.ccc_router.roster import Operator
from interpol_offices.ccc_router.runtime import runtime_of
from interpol_offices.ccc_router.schemas import Refusal

router = APIRouter(prefix="/v1")
PRESENCE = "CCC: presence"


class PresenceChange(ApiInput):
    """A new state for an operator; strict like every API body (no coercion), unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid")

    state: State = Field(
        ..., description="available (takes new cases), busy (keeps cases, takes none new), away, offline"
    )
    reason: str | None = Field(None, max_length=500, examples=["briefing the head of desk, back in 20 minutes"])


class OperatorPresence(BaseModel):
    operator_id: str = Field(..., examples=["ly.benali"])
    desk: str
    role: str
    languages: list[str]
    on_shift_now: bool
    state: State
    since: datetime = Field(..., description="When the state was set, or when the shift began if nobody set it")
    source: str = Field(..., description="operator, colleague, inferred, or shift (not set since the shift began)")
    set_by: str | None
    reason: str | None


class PresenceSet(OperatorPresence):
    moved: list[str] = Field(..., description="Open cases moved to a present colleague because of this change")


class LanguagePresence(BaseModel):
    on_shift: int = Field(..., description="Dispatch-role operators on shift with the language")
    present: int = Field(..., description="Of those, available or busy: who is here now")
    available: int = Field(..., description="Of those, available: who may be given a new case")


class PresenceBoard(BaseModel):
    at: datetime
    desk_on_duty: str
    operators: list[OperatorPresence]
    languages: dict[str, LanguagePresence]


ERRORS: dict[int | str, dict[str, object]] = {
    403: {"model": Refusal, "description": "Only a duty officer or head of desk sets a colleague's presence"},
    404: {"model": Refusal, "description": "No such operator on the roster"},
    422: {"description": "Unknown state, or a field is invalid"},
}


async def _view(ctx: CtxDep, op: Operator) -> OperatorPresence:
    rt = runtime_of(ctx)
    now = ctx.clock.now()
    duty = next((d for d in rt.on_shift(now) if d.operator.id == op.id), None)
    async with ctx.engine.connect() as conn:
        if duty is not None:
            p = (await presence.presence_of(conn, [duty]))[op.id]
            state, since, source, set_by, reason = p.state, p.since, p.source, p.set_by, p.reason
        else:
            row = await presence.stored(conn, op.id)
            if row is None:
                state, since, source, set_by, reason = "offline", now, "shift", None, "not on shift"
            else:
                state, since, source, set_by, reason = row.state, row.since, row.source, row.set_by, row.reason
    return OperatorPresence(
        operator_id=op.id, desk=op.desk, role=op.role, languages=list(op.languages), on_shift_now=duty is not None,
        state=state, since=since, source=source, set_by=set_by, reason=reason,
    )  # fmt: skip


async def _set(ctx: CtxDep, target: Operator, req: PresenceChange, source: Source, by: str) -> PresenceSet:
    try:
        async with ctx.transaction() as uow:
            moved = await presence.set_state(
                uow, runtime_of(ctx), target.id, req.state, source=source, set_by=by, reason=req.reason
            )
    except CaseError as exc:  # a case being moved changed at this instant: nothing was written
        raise HTTPException(exc.status, exc.reason) from None
    return PresenceSet(**(await _view(ctx, target)).model_dump(), moved=moved)


@router.get("/presence", tags=[PRESENCE], summary="Who is present now, and per language", response_model=PresenceBoard)
async def get_presence(ctx: CtxDep, me: OperatorDep) -> PresenceBoard:
    """Each operator on shift with their state (a state set before their shift began has lapsed:
    they read as `available` from the shift's start), and per language the dispatch-role operators
    on shift, present (available or busy) and available. This is now; GET /v1/coverage is the
    roster's forecast (with `present_now` for the current week)."""
    rt = runtime_of(ctx)
    now = ctx.clock.now()
    on = rt.on_shift(now)
    async with ctx.engine.connect() as conn:
        found = await presence.presence_of(conn, on)
    by_lang = presence.present_by_language(rt, on, {k: v.state for k, v in found.items()})
    return PresenceBoard(
        at=now,
        desk_on_duty=rt.primary_desk(now),
        operators=[
            OperatorPresence(
                operator_id=d.operator.id,
                desk=d.desk,
                role=d.operator.role,
                languages=list(d.operator.languages),
                on_shift_now=True,
                **vars(found[d.operator.id]),
            )
            for d in on
        ],
        languages={
            lang: LanguagePresence(
                on_shift=len(people),
                present=sum(s in presence.PRESENT for _, s in people),
                available=sum(s == "available" for _, s in people),
            )
            for lang, people in by_lang.items()
        },
    )


@router.put(
    "/operators/me/presence", tags=[PRESENCE], summary="Set my presence", response_model=PresenceSet, responses=ERRORS
)
async def put_my_presence(req: PresenceChange, ctx: CtxDep, me: OperatorDep) -> PresenceSet:
    """`busy` keeps your cases and gives you no new one; `away` or `offline` moves every open case
    you hold to a present colleague with the case language (listed in `moved`, and in each case's
    timeline as `presence-moved`). The state lasts until you change it or your next shift begins."""
    return await _set(ctx, me, req, "operator", me.id)


@router.put(
    "/operators/{operator_id}/presence",
    tags=[PRESENCE],
    summary="Set a colleague's presence (duty officer, head of desk)",
    response_model=PresenceSet,
    responses=ERRORS,
)
async def put_presence(
    operator_id: str, req: PresenceChange, request: Request, ctx: CtxDep, me: OperatorDep
) -> PresenceSet:
    """A duty officer or head of desk marks someone of lower rank (any desk, as they act on any
    desk's case) or a peer at their own desk, e.g. away when they left the room without saying so;
    the change is recorded with source `colleague` and the cases move as if they had set it."""
    target = runtime_of(ctx).roster.operator(operator_id)
    if target is None:
        raise HTTPException(404, f"{operator_id!r} is not on the roster")
    if target.id == me.id:
        return await _set(ctx, me, req, "operator", me.id)
    if not is_supervisor(me):
        why = f"{me.id} is an operator; only a duty officer or head of desk sets a colleague's presence"
    elif outranks(me, target) or (target.desk == me.desk and RANK[me.role] >= RANK[target.role]):
        return await _set(ctx, target, req, "colleague", me.id)
    else:
        why = (
            f"{me.id} ({me.role}, {me.desk}) sets presence only for someone of lower rank, or a peer at "
            f"{me.desk}; {target.id} is {target.role} at {target.desk}"
        )
    raise await refused(request, ctx, 403, "forbidden", why, who=me.id)
