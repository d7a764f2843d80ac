"""NCB: the `record-hit` reports of one search, to each record's owner and the CCC, once per record."""

from __future__ import annotations

from interpol_mesh.messages.records import Purpose, SearchHit, SearchMode, SearchQuery
from interpol_mesh.messaging.unit_of_work import UnitOfWork


async def report_hits(
    uow: UnitOfWork,
    *,
    search_id: str,
    hits: list[SearchHit],
    query: SearchQuery,
    mode: SearchMode,
    purpose: Purpose,
    place: str,
) -> list[str]:
    """Compose and send one `record-hit` per hit at or above the purpose's threshold; the offices told."""
    raise NotImplementedError
