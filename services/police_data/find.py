"""GS: the online (FIND) search responder on `mesh.v1.search.*` (core NATS, queue group `police_data`).

Each request is opened like any envelope (sender from the subject) and answered only on a reply
subject under the sender's own inbox prefix; the answer is a `search-result` signed by the GS.
Nothing is stored on a stream; refusals are counted and logged without the search terms.
"""

from __future__ import annotations

from interpol_mesh.messaging.context import OfficeContext

QUEUE = "police_data"


async def search_responder(ctx: OfficeContext) -> None:
    """Background task of the GS role: subscribe and answer until cancelled."""
    raise NotImplementedError
