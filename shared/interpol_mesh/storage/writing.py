"""Write transactions one at a time per SQLite file, queued in the event loop rather than in SQLite.

SQLite has one writer. When two pooled connections of the same office (the group writer, the
inbox consumer, the relay) both want to write, the loser sits in SQLite's busy handler, which
sleeps in steps of up to 100 ms: under load an office spent more time asleep than working.
An asyncio lock per engine hands the write lock over the moment it is free. PostgreSQL has row
locks and needs none of this.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

_locks: WeakKeyDictionary[AsyncEngine, tuple[asyncio.Lock, list[asyncio.Task[object] | None]]] = WeakKeyDictionary()


class NestedWriteTransaction(RuntimeError):
    """A write transaction opened inside another of the same office: it would wait for itself."""


@asynccontextmanager
async def writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """`engine.begin()`, serialised per SQLite database."""
    if engine.dialect.name != "sqlite":
        async with engine.begin() as conn:
            yield conn
        return
    lock, holder = _locks.setdefault(engine, (asyncio.Lock(), [None]))
    me = asyncio.current_task()
    if holder[0] is me and me is not None:
        raise NestedWriteTransaction("a write transaction was opened inside another one of the same office")
    async with lock:
        holder[0] = me
        try:
            async with engine.begin() as conn:
                yield conn
        finally:
            holder[0] = None
