"""NCB: the `record-hit` reports of one search, to each record's owner and the CCC, once per record.

Every hit a search returns is at or above its purpose's threshold (exact identifiers score 1.0;
persons are cut by `names.THRESHOLDS` before they leave the GS), so every one is reported: the
owner must act (seize, arrest, locate) and the CCC opens a case in the owner's language.
"""

from __future__ import annotations

from interpol_mesh.messages.records import Purpose, RecordHit, SearchHit, SearchMode, SearchQuery
from interpol_mesh.messaging import OfficeContext, compose
from interpol_mesh.messaging.outbound import Outgoing


def hit_reports(
    ctx: OfficeContext,
    *,
    search_id: str,
    hits: list[SearchHit],
    query: SearchQuery,
    mode: SearchMode,
    purpose: Purpose,
    place: str,
) -> list[Outgoing]:
    """One signed `record-hit` per record hit (CPU only: the caller commits them with the search's audit)."""
    ccc = ctx.directory.of_kind("ccc")[0].id
    country = ctx.office.country or "XX"
    now = ctx.clock.now()
    outgoing = []
    for hit in {h.record_id: h for h in hits}.values():
        person = hit.person
        report = RecordHit(
            search_id=search_id, record_id=hit.record_id, database=hit.database, owner_office=hit.owner_office,
            record_ref=hit.record_ref, notice_id=person.notice_id if person else None,
            notice_type=person.notice_type if person else None, score=hit.score, reasons=hit.reasons, mode=mode,
            purpose=purpose, query=query, country=country, place=place, hit_at=now,
        )  # fmt: skip
        recipients = sorted({hit.owner_office, ccc} - {ctx.office.id})
        outgoing.append(compose(ctx, kind="record-hit", recipients=recipients, body=report, priority="urgent"))
    return outgoing
