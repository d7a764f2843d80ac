"""NCB API: `POST /v1/searches`, an officer's frontline search: online at the GS (FIND) or in the national copy (MIND).

The NCB reads the input first (an MRZ's ICAO 9303 check digits, a VIN's check digit), so a misread
is a 422 naming the field rather than a miss. Then the signed request to the GS (or, on the
national copy, the GS's own `store.search` on this office's replica), and one unit of work here:
the `search` audit event (the only place the terms are kept: never in a log line, metric or span),
a `record-view` per record shown, and a `record-hit` to each owner and the CCC.
"""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, HTTPException, status

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.audit import AuditEvent
from interpol_mesh.auth.deps import OFFICER, requires
from interpol_mesh.directory import GS_ID
from interpol_mesh.ids import new_message_id
from interpol_mesh.messages.records import SearchHit, SearchMode, SearchQuery, SearchRequest
from interpol_mesh.messaging.context import OfficeContext
from interpol_offices.police_data import store
from interpol_offices.police_data.errors import FieldError
from interpol_offices.police_data.find_client import SearchUnavailable, search_online
from interpol_offices.police_data.hits import hit_reports
from interpol_offices.police_data.identifiers import document_key, plate_key
from interpol_offices.police_data.mrz import parse_mrz
from interpol_offices.police_data.national_copy import keeps_copy
from interpol_offices.police_data.schemas import CopyStatus, SearchAnswer, SearchSend
from interpol_offices.police_data.vin import check_vin

router = APIRouter(prefix="/v1", tags=["police databases"], dependencies=[requires(OFFICER)])


def query_of(req: SearchSend, ctx: CtxDep) -> SearchQuery:
    """The wire query, with each identifier read and checked; FieldError names what is wrong."""
    if req.database == "sltd":
        number, country = req.document_number, req.issuing_country
        if req.mrz is not None:
            read = parse_mrz(req.mrz, today=ctx.clock.now().date())
            number, country = read.document_number, read.issuing_country
        if number is None:
            raise FieldError("document_number", "an SLTD search needs a document number or an MRZ")
        document_key(number)
        return SearchQuery(database="sltd", document_number=number, issuing_country=country)
    if req.database == "smv":
        if req.vin is None and req.plate is None:
            raise FieldError("vin", "an SMV search needs a VIN or a plate")
        if req.vin is not None:
            check_vin(req.vin)
        if req.plate is not None:
            plate_key(req.plate)
        return SearchQuery(database="smv", vin=req.vin, plate=req.plate, plate_country=req.plate_country)
    if req.person is None:
        raise FieldError("person", "a persons search needs a person")
    return SearchQuery(database="persons", person=req.person)


@router.post(
    "/searches",
    response_model=SearchAnswer,
    summary="Search the stolen documents, stolen vehicles or wanted persons",
    responses={409: {"description": "national-copy asked at an office that keeps no national copy"},
               422: {"description": "An identifier is misread (the field is named)"},
               503: {"description": "The GS did not answer within the deadline (and no national copy to fall back on)"}},
)  # fmt: skip
async def search(req: SearchSend, ctx: CtxDep) -> SearchAnswer:
    """Online: signs a `search-request` to the GS and waits at most 2 s for its signed answer.
    National copy: searches this office's replica, also with the link down, and says how fresh it is.

    Every hit returned is reported at once (`record-hit` to the record's owner and the CCC, once per
    record; queued in the outbox while the link is down): the owner decides what happens next.
    """
    try:
        query = query_of(req, ctx)
    except FieldError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{exc.field}: {exc.reason}") from exc
    has_copy = keeps_copy(ctx.directory, ctx.office.id)
    if req.mode == "national-copy" and not has_copy:
        raise HTTPException(status.HTTP_409_CONFLICT, "mode: this office keeps no national copy; search online")
    fallback: tuple[str, AuditEvent] | None = None
    if req.mode != "national-copy":
        request = SearchRequest(query=query, purpose=req.purpose, place=req.place)
        try:
            search_id, result = await search_online(ctx, request)
        except SearchUnavailable as exc:
            # The signed request may have reached the GS with the terms: its id is in the trail either way.
            unanswered = AuditEvent(event="search", result="unavailable", message_id=exc.message_id,
                                    sender=ctx.office.id, recipients=[GS_ID], detail=f"{query.database} online: {exc}")  # fmt: skip
            if req.mode == "online" or not has_copy:
                async with ctx.transaction() as uow:
                    uow.audit(unanswered)
                raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"search unavailable: {exc}") from exc
            fallback = (f"online unavailable: {exc}", unanswered)
        else:
            reports = await _record(ctx, req, query, search_id, "online", list(result.hits), fallback=None)
            return SearchAnswer(
                search_id=search_id, mode="online", searched_at=result.searched_at, hits=list(result.hits),
                hit_reports=reports, link=_link(ctx),
            )  # fmt: skip
    search_id = new_message_id(ctx.clock)
    now = ctx.clock.now()
    async with ctx.engine.connect() as conn:  # a read: the audit is written with the neighbours' below
        viewer = store.Viewer(ctx.office.id, ctx.office.country)
        hits = await store.search(conn, query, viewer=viewer, purpose=req.purpose, now=now)
        state = await store.copy_state(conn)
    reports = await _record(ctx, req, query, search_id, "national-copy", hits, fallback=fallback)
    return SearchAnswer(
        search_id=search_id, mode="national-copy", searched_at=now, copy_as_of=state.changed_at, hits=hits,
        hit_reports=reports, link=_link(ctx),
    )  # fmt: skip


async def _record(
    ctx: OfficeContext, req: SearchSend, query: SearchQuery, search_id: str, mode: SearchMode, hits: list[SearchHit],
    *, fallback: tuple[str, AuditEvent] | None,
) -> list[str]:  # fmt: skip
    """The search's audit (the only place its terms are kept), a view per record shown, the hit reports:
    committed before the officer sees the answer, group-committed with concurrent searches (one audit
    append and one commit for all of them: the audit head is an office's one serial point).
    """
    terms = json.dumps(query.model_dump(mode="json", exclude_none=True), ensure_ascii=False, sort_keys=True)
    result = f"{len(hits)} hits" + (f" ({fallback[0]})" if fallback else "")
    events = [fallback[1]] if fallback else []
    events += [AuditEvent(event="search", result=result, message_id=search_id, sender=ctx.office.id,
                         recipients=[GS_ID] if mode == "online" else [],
                         detail=f"{query.database} {mode} {req.purpose}: {terms}")]  # fmt: skip
    for hit in hits:
        events.append(AuditEvent(event="record-view", result="shown", message_id=search_id, sender=ctx.office.id,
                                 detail=f"{hit.record_id} revision {hit.revision}"))  # fmt: skip
    reports = hit_reports(
        ctx, search_id=search_id, hits=hits, query=query, mode=mode, purpose=req.purpose, place=req.place
    )
    assert ctx.writer is not None, "the office is not started"
    await ctx.writer.submit(reports, events)
    return [out.header.message_id for out in reports]


def _link(ctx: OfficeContext) -> Literal["up", "down"]:
    return "up" if ctx.bus_status.connected else "down"


@router.get("/national-copy", response_model=CopyStatus, summary="This office's national copy: size and freshness")
async def national_copy_status(ctx: CtxDep) -> CopyStatus:
    """What the copy holds per database and the GS time of the newest change applied (its freshness)."""
    async with ctx.engine.connect() as conn:
        state = await store.copy_state(conn)
        records = await store.counts(conn)
    return CopyStatus(
        keeps_copy=keeps_copy(ctx.directory, ctx.office.id), last_revision=state.last_revision,
        copy_as_of=state.changed_at, applied_at=state.applied_at, records=records, link=_link(ctx),
    )  # fmt: skip
