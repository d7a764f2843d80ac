"""NCB: one online search at the GS, signed both ways, within a deadline."""

from __future__ import annotations

from interpol_mesh.messages.records import SearchRequest, SearchResult
from interpol_mesh.messaging.context import OfficeContext

DEADLINE_SECONDS = 2.0


class SearchUnavailable(Exception):
    """The GS did not answer in time, or its answer did not verify (the reason says which)."""


async def search_online(ctx: OfficeContext, request: SearchRequest) -> tuple[str, SearchResult]:
    """The request's message id and the GS's verified result."""
    raise NotImplementedError
