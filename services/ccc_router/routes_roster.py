"""Operator console, organisation side: desks and their queues, roster, coverage, SLA, operators' tokens."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from interpol_mesh.app import CtxDep
from interpol_mesh.audit import AuditEvent
from interpol_mesh.auth import issue_token, refused, verify_token
from interpol_mesh.directory import OFFICIAL_LANGUAGES
from interpol_offices.ccc_router import cases, presence, roster_store
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.auth import (
    TOKEN_ROLES,
    HeadOfDeskDep,
    OperatorDep,
    SupervisorDep,
    outranks,
    revoke_tokens,
)
from interpol_offices.ccc_router.coverage import DUTY_OFFICER, compute, utc_offset_changes, week_start
from interpol_offices.ccc_router.roster import Operator, Override
from interpol_offices.ccc_router.roster_store import RosterRefused
from interpol_offices.ccc_router.runtime import runtime_of
from interpol_offices.ccc_router.schemas import (
    CaseSummary,
    DeskQueue,
    DeskView,
    OverrideCreated,
    RosterChange,
    RosterRefusal,
    RosterView,
    TokenIssued,
    TokenRequest,
    TokenRevocation,
    TokensRevoked,
)
from interpol_offices.ccc_router.stats import SlaReport, default_period, sla_report

router = APIRouter(prefix="/v1")
DESKS = "CCC: desks and roster"
COVERAGE = "CCC: coverage"
STATS = "CCC: statistics"
ACCESS = "CCC: operator access"


class CoverageCell(BaseModel):
    operators: int = Field(..., description="Distinct operators on shift with this skill during the hour")
    by_desk: dict[str, int]
    covered: bool = Field(..., description="Someone with the skill is on shift for the whole hour")


class CoverageHour(BaseModel):
    start: datetime
    desk_on_duty: str
    languages: dict[str, CoverageCell]
    duty_officer: CoverageCell


class CoverageView(BaseModel):
    week_start: datetime
    roster_version: int
    dispatch_roles: list[str]
    utc_offset_changes: list[dict[str, str]] = Field(
        ..., description="Daylight-saving changes of the desks' zones that week"
    )
    gaps: list[str]
    hours: list[CoverageHour]
    present_now: dict[str, int] | None = Field(
        None,
        description="Only when the week shown contains this moment: per language, the dispatch-role operators on "
        "shift now who are present (available or busy, GET /v1/presence); the hours are the roster's forecast",
    )


@router.get("/desks", tags=[DESKS], summary="The three desks and who is on shift now", response_model=list[DeskView])
async def list_desks(ctx: CtxDep, me: OperatorDep) -> list[DeskView]:
    """Follow-the-sun: the desk on duty owns new cases; `on_shift_now` is who the roster has working
    at each desk at this moment (overrides included)."""
    rt = runtime_of(ctx)
    now = ctx.clock.now()
    on = rt.on_shift(now)
    primary = rt.primary_desk(now)
    return [
        DeskView(
            id=d.id,
            name=d.name,
            city=d.city,
            timezone=d.timezone,
            shift_utc=f"{d.shift_start_utc:%H:%M}-{'24:00' if d.shift_end_utc.hour == 0 else f'{d.shift_end_utc:%H:%M}'}",
            on_duty_now=d.id == primary,
            on_shift_now=[x.operator.id for x in on if x.desk == d.id],
        )
        for d in ctx.directory.desks
    ]


@router.get(
    "/desks/{desk_id}/queue", tags=[DESKS], summary="A desk's open cases by language queue", response_model=DeskQueue
)
async def desk_queue(
    desk_id: str, ctx: CtxDep, me: OperatorDep, language: Annotated[str | None, Query(examples=["ar"])] = None
) -> DeskQueue:
    """Open cases at the desk, grouped by queue language; unassigned ones wait here to be claimed."""
    if desk_id not in {d.id for d in ctx.directory.desks}:
        raise HTTPException(404, f"no desk {desk_id!r}; desks: {', '.join(d.id for d in ctx.directory.desks)}")
    async with ctx.engine.connect() as conn:
        found = await cases.find(conn, status=t.OPEN_STATUSES, desk=desk_id, language=language, limit=1000)
    queues: dict[str, list[CaseSummary]] = {lang: [] for lang in OFFICIAL_LANGUAGES if language in (None, lang)}
    for case in found:
        queues.setdefault(case.queue_language, []).append(CaseSummary.of(case))
    return DeskQueue(desk=desk_id, queues=queues)


def _roster_view(ctx: CtxDep) -> RosterView:
    active = runtime_of(ctx).active
    assert active is not None
    return RosterView(version=active.version, roster=active.roster, override_ids=[i for i, _ in active.overrides])


def _refused(exc: RosterRefused) -> JSONResponse:
    return JSONResponse({"detail": {"reason": exc.reason, "gaps": exc.gaps}}, status_code=422)


@router.get("/roster", tags=[DESKS], summary="The active roster", response_model=RosterView)
async def get_roster(ctx: CtxDep, me: OperatorDep) -> RosterView:
    """The roster version in force plus the dated overrides added through the API."""
    return _roster_view(ctx)


@router.put(
    "/roster",
    tags=[DESKS],
    summary="Replace the roster (validated; refused with its gaps)",
    response_model=RosterView,
    responses={
        422: {"model": RosterRefusal, "description": "A rule is broken or an hour is uncovered; every gap is named"}
    },
)
async def put_roster(
    req: RosterChange, ctx: CtxDep, me: HeadOfDeskDep, dry_run: Annotated[bool, Query(description="Only check")] = False
) -> RosterView | JSONResponse:
    """Head of desk only. The roster is checked for 53 weeks ahead (daylight-saving included), with
    the overrides in force; a roster leaving any language or the duty officer uncovered is refused."""
    rt = runtime_of(ctx)
    try:
        async with ctx.transaction() as uow:
            active = await roster_store.replace(uow.conn, ctx, rt, req.roster, me.id, req.reason, dry_run=dry_run)
    except RosterRefused as exc:
        return _refused(exc)
    if dry_run:
        return RosterView(version=active.version, roster=active.roster, override_ids=[i for i, _ in active.overrides])
    rt.set_active(active)
    return _roster_view(ctx)


@router.post(
    "/roster/overrides",
    tags=[DESKS],
    status_code=status.HTTP_201_CREATED,
    summary="Add leave or extra cover (validated)",
    response_model=OverrideCreated,
    responses={422: {"model": RosterRefusal, "description": "It would leave an hour uncovered: the gap is named"}},
)
async def post_override(req: Override, ctx: CtxDep, me: SupervisorDep) -> OverrideCreated | JSONResponse:
    """Duty officer or head of desk. Leave that would uncover a language is refused; add the cover first."""
    rt = runtime_of(ctx)
    try:
        async with ctx.transaction() as uow:
            override_id, active = await roster_store.add_override(uow.conn, ctx, rt, req, me.id)
    except RosterRefused as exc:
        return _refused(exc)
    rt.set_active(active)
    return OverrideCreated(override_id=override_id, roster_version=active.version)


@router.delete(
    "/roster/overrides/{override_id}",
    tags=[DESKS],
    summary="Cancel an override (validated)",
    response_model=RosterView,
    responses={422: {"model": RosterRefusal}},
)
async def delete_override(override_id: int, ctx: CtxDep, me: SupervisorDep) -> RosterView | JSONResponse:
    """Duty officer or head of desk. Refused if removing it (e.g. a cover) would leave an hour uncovered."""
    rt = runtime_of(ctx)
    try:
        async with ctx.transaction() as uow:
            active = await roster_store.cancel_override(uow.conn, ctx, rt, override_id)
    except RosterRefused as exc:
        return _refused(exc)
    rt.set_active(active)
    return _roster_view(ctx)


@router.get(
    "/coverage", tags=[COVERAGE], summary="Hour x language coverage of a week (forecast)", response_model=CoverageView
)
async def get_coverage(
    ctx: CtxDep,
    me: OperatorDep,
    week: Annotated[
        date | None,
        Query(
            description="Any day of the week to show (Monday 00:00 UTC start); default: this week",
            examples=["2026-03-23"],
        ),
    ] = None,
) -> CoverageView:
    """For each UTC hour of the week: the desk on duty, and per language how many operators are on
    shift and at which desks, with the overrides and daylight-saving changes of that week applied.
    For the current week, `present_now` counts per language who is present this moment."""
    rt = runtime_of(ctx)
    anchor = datetime(week.year, week.month, week.day, 12, tzinfo=UTC) if week else ctx.clock.now()
    start = week_start(anchor)
    report = compute(rt.roster, ctx.directory, start, 7 * 24, rt.dispatch_chain.dispatch_roles)
    assert rt.active is not None
    now, present_now = ctx.clock.now(), None
    if start <= now < start + timedelta(days=7):
        on = rt.on_shift(now)
        async with ctx.engine.connect() as conn:
            states = await presence.states_now(conn, on)
        by_lang = presence.present_by_language(rt, on, states)
        present_now = {lang: sum(s in presence.PRESENT for _, s in people) for lang, people in by_lang.items()}
    return CoverageView(
        present_now=present_now,
        week_start=start,
        roster_version=rt.active.version,
        dispatch_roles=list(rt.dispatch_chain.dispatch_roles),
        utc_offset_changes=utc_offset_changes(ctx.directory, start, 7 * 24),
        gaps=[g.describe() for g in report.gaps],
        hours=[
            CoverageHour(
                start=h.start,
                desk_on_duty=h.desk_on_duty,
                languages={k: CoverageCell(**vars(v)) for k, v in h.cells.items() if k != DUTY_OFFICER},
                duty_officer=CoverageCell(**vars(h.cells[DUTY_OFFICER])),
            )
            for h in report.hours
        ],
    )


@router.get(
    "/stats/sla", tags=[STATS], summary="Time to acknowledge by priority, language and desk", response_model=SlaReport
)
async def get_sla(
    ctx: CtxDep, me: OperatorDep, since: datetime | None = None, until: datetime | None = None
) -> SlaReport:
    """Cases opened in [since, until) (default: the last 7 days): p50/p90/max seconds from opening to
    acknowledgement, and the share acknowledged before the first escalation deadline."""
    default_since, default_until = default_period(ctx.clock.now())
    async with ctx.engine.connect() as conn:
        return await sla_report(conn, since or default_since, until or default_until)


async def _lower_ranked(operator_id: str, request: Request, ctx: CtxDep, me: Operator, *, self_ok: bool) -> Operator:
    """The roster entry of `operator_id` if `me` may issue or revoke their tokens; else a 403, audited."""
    target = runtime_of(ctx).roster.operator(operator_id)
    if target is None:
        raise HTTPException(404, f"{operator_id!r} is not on the roster")
    if (self_ok and target.id == me.id) or outranks(me, target):
        return target
    why = (
        "never for oneself (a token that renews itself would never expire)"
        if target.id == me.id
        else f"{target.id} is {target.role}"
    )
    raise await refused(
        request, ctx, 403, "forbidden",
        f"{me.id} ({me.role}) manages tokens only for someone of lower rank (operator < duty-officer < "
        f"head-of-desk); {why}. A head of desk's token comes from `interpol-mesh token issue` only",
        who=me.id,
    )  # fmt: skip


@router.post(
    "/operators/{operator_id}/tokens",
    tags=[ACCESS],
    status_code=status.HTTP_201_CREATED,
    summary="Issue a mesh staff token for someone of lower rank (duty officer, head of desk)",
    response_model=TokenIssued,
)
async def post_token(
    operator_id: str, req: TokenRequest, request: Request, ctx: CtxDep, me: SupervisorDep
) -> TokenIssued:
    """A duty officer issues a `mesh1.` staff token, signed with the CCC's key, for an operator; a
    head of desk for an operator or a duty officer (at most 12 h, like every staff token of the
    mesh). Only for strictly lower rank: nobody mints a token worth more than their own, and two
    peers cannot keep renewing each other's. A head of desk's token comes from the CLI only. The
    token names only its subject, so the audit record keeps who issued it (for whom, until when);
    the roster decides at each request, and POST .../tokens/revoke ends the tokens already issued."""
    await _lower_ranked(operator_id, request, ctx, me, self_ok=False)
    now = ctx.clock.now()
    token = issue_token(
        ctx.signer,
        subject=operator_id,
        audience=ctx.office.id,
        roles=TOKEN_ROLES,
        now=now,
        ttl=timedelta(hours=req.hours),
    )
    expires = verify_token(token, keys=ctx.keyring.current, audience=ctx.office.id, now=now).expires_at
    async with ctx.transaction() as uow:
        uow.audit(
            AuditEvent(
                event="token-issued", result="ok", sender=me.id, recipients=[operator_id],
                detail=f"staff token for {operator_id} until {expires.isoformat()}" + (f" ({req.label})" if req.label else ""),
            ),
        )  # fmt: skip
    return TokenIssued(operator_id=operator_id, token=token, expires_at=expires)


@router.post(
    "/operators/{operator_id}/tokens/revoke",
    tags=[ACCESS],
    summary="Revoke every token of an operator issued until now (oneself, or someone of lower rank)",
    response_model=TokensRevoked,
)
async def revoke_operator_tokens(
    operator_id: str, req: TokenRevocation, request: Request, ctx: CtxDep, me: OperatorDep
) -> TokensRevoked:
    """For a leaked token: every staff token of the operator issued up to now (to the second) is
    refused from here on, whoever issued it; tokens issued afterwards work. Anyone may revoke their
    own; otherwise the rank rule of issuing applies. Audited, with the reason."""
    await _lower_ranked(operator_id, request, ctx, me, self_ok=True)
    now = ctx.clock.now()
    async with ctx.transaction() as uow:
        await revoke_tokens(uow.conn, operator_id, now, me.id, req.reason)
        uow.audit(
            AuditEvent(
                event="tokens-revoked", result="ok", sender=me.id, recipients=[operator_id],
                detail=f"staff tokens of {operator_id} issued before {now.isoformat()} revoked: {req.reason}",
            ),
        )  # fmt: skip
    return TokensRevoked(operator_id=operator_id, not_before=now)
