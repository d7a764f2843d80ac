"""Group commit for API writes: concurrent requests share one transaction.

Each accepted message needs its envelope, delivery and outbox rows and an audit record written
durably before the API answers 202. Written one transaction per request, that is eight database
round trips per message and a queue on the audit head lock; here whatever requests are waiting
are written together in one unit of work (one multi-row statement per table, one audit append,
one commit), and each request is answered when the commit that holds its message has happened.
If that shared unit of work fails, each request is written in its own, so one bad message fails
only its own request. A request may also bring audit events of its own (a police search: the
search and each record viewed), chained in the same commit as its messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from interpol_mesh.audit import AuditEvent
from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.messaging.outbound import Outgoing

log = logging.getLogger(__name__)

# Messages per transaction: enough to amortise the commit, few enough that one transaction (run
# in the event loop's thread on SQLite) never holds the loop for long.
MAX_GROUP_MESSAGES = 512
_Pending = tuple[list[Outgoing], Sequence[AuditEvent], "asyncio.Future[None]"]


class GroupWriter:
    def __init__(self, ctx: OfficeContext) -> None:
        self._ctx = ctx
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()

    async def submit(self, outgoing: list[Outgoing], audit: Sequence[AuditEvent] = ()) -> None:
        """Return once `outgoing` (and `audit`) is committed; raise what its transaction raised."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((outgoing, audit, future))
        await future

    async def run(self) -> None:
        while True:
            group = [await self._queue.get()]
            size = len(group[0][0]) + len(group[0][1])
            while not self._queue.empty() and size < MAX_GROUP_MESSAGES:
                group.append(self._queue.get_nowait())
                size += len(group[-1][0]) + len(group[-1][1])
            try:
                await self._write(
                    [o for items, _, _ in group for o in items], [e for _, events, _ in group for e in events]
                )
            except Exception:
                # One bad message must not fail its neighbours: write them one group each.
                for items, events, future in group:
                    try:
                        await self._write(items, events)
                    except Exception as exc:
                        if not future.done():
                            future.set_exception(exc)
                    else:
                        if not future.done():
                            future.set_result(None)
                continue
            for _, _, future in group:
                if not future.done():
                    future.set_result(None)

    async def _write(self, outgoing: list[Outgoing], audit: Sequence[AuditEvent]) -> None:
        async with self._ctx.transaction() as uow:
            if outgoing:
                await uow.send(*outgoing)
            for event in audit:
                uow.audit(event)
