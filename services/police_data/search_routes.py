"""NCB API: `POST /v1/searches`, an officer's frontline search of the GS's databases (FIND).

The NCB reads the input first (an MRZ's ICAO 9303 check digits, a VIN's check digit), so a misread
is a 422 naming the field rather than a miss. Then the signed request to the GS, and one unit of
work here: the `search` audit event (the only place the terms are kept: never in a log line,
metric or span), a `record-view` per record shown, and a `record-hit` to each owner and the CCC.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, status

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.audit import AuditEvent
from interpol_mesh.auth.deps import OFFICER, requires
from interpol_mesh.directory import GS_ID
from interpol_mesh.messages.records import SearchQuery, SearchRequest
from interpol_offices.police_data.errors import FieldError
from interpol_offices.police_data.find_client import SearchUnavailable, search_online
from interpol_offices.police_data.hits import report_hits
from interpol_offices.police_data.identifiers import document_key, plate_key
from interpol_offices.police_data.mrz import parse_mrz
from interpol_offices.police_data.schemas import SearchAnswer, SearchSend
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
    responses={422: {"description": "An identifier is misread (the field is named)"},
               503: {"description": "The GS did not answer within the deadline"}},
)  # fmt: skip
async def search(req: SearchSend, ctx: CtxDep) -> SearchAnswer:
    """Signs a `search-request` to the GS and waits at most 2 s for its signed answer.

    Every hit returned is reported at once (`record-hit` to the record's owner and the CCC, once per
    record): the owner decides what happens to the person, document or vehicle.
    """
    try:
        query = query_of(req, ctx)
    except FieldError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{exc.field}: {exc.reason}") from exc
    request = SearchRequest(query=query, purpose=req.purpose, place=req.place)
    try:
        search_id, result = await search_online(ctx, request)
    except SearchUnavailable as exc:
        async with ctx.transaction() as uow:
            uow.audit(AuditEvent(event="search", result="unavailable", sender=ctx.office.id, recipients=[GS_ID],
                                 detail=f"{query.database} online: {exc}"))  # fmt: skip
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"search unavailable: {exc}") from exc
    hits = list(result.hits)
    async with ctx.transaction() as uow:
        terms = json.dumps(query.model_dump(mode="json", exclude_none=True), ensure_ascii=False, sort_keys=True)
        uow.audit(AuditEvent(event="search", result=f"{len(hits)} hits", message_id=search_id, sender=ctx.office.id,
                             recipients=[GS_ID], detail=f"{query.database} online {req.purpose}: {terms}"))  # fmt: skip
        for hit in hits:
            uow.audit(AuditEvent(event="record-view", result="shown", message_id=search_id, sender=ctx.office.id,
                                 detail=f"{hit.record_id} revision {hit.revision}"))  # fmt: skip
        reports = await report_hits(
            uow, search_id=search_id, hits=hits, query=query, mode="online", purpose=req.purpose, place=req.place
        )
    return SearchAnswer(
        search_id=search_id, mode="online", searched_at=result.searched_at, hits=hits, hit_reports=reports
    )
