"""Records in and out of the police tables, and the one search the GS and a national copy both run.

Visibility is decided in SQL before any scoring: a restricted record the viewer may not see is never
a candidate, so a search gives no hint that it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.messages.records import Database, Purpose, RecordChange, SearchHit, SearchQuery

DEFAULT_RETENTION = timedelta(days=5 * 365)  # the RPD's review period; also the most an owner may ask
MAX_HITS = 20


def record_id(database: Database, owner_office: str, record_ref: str) -> str:
    return f"{database}/{owner_office}/{record_ref}"


@dataclass(frozen=True)
class Viewer:
    """Who searches: an NCB sees unrestricted records, its own, and those restricted to its country."""

    office_id: str
    country: str | None
    sees_all: bool = False  # the GS and the CCC


@dataclass(frozen=True)
class Applied:
    """What an accepted change did at the GS: what the national copies need to follow it."""

    record_id: str
    revision: int
    change: RecordChange  # as the copies get it: owner, revision, source_message_id, retention filled in
    visible_before: frozenset[str] | None  # countries that could see the old version (None: all; empty: no old version)
    visible_after: frozenset[str] | None  # None: all; for a cancel, empty


@dataclass(frozen=True)
class Removed:
    record_id: str
    database: Database
    owner_office: str
    record_ref: str
    revision: int
    visible_to: frozenset[str] | None


async def apply_change(
    conn: AsyncConnection, change: RecordChange, *, source_message_id: str, now: datetime
) -> Applied | None:
    """GS: upsert or delete the owner's record under a new revision; None for a cancel of nothing."""
    raise NotImplementedError


async def apply_copy_change(
    conn: AsyncConnection, change: RecordChange, *, changed_at: datetime, now: datetime
) -> bool:
    """National copy: apply a change from the GS if its revision is newer than the record's (tombstones too)."""
    raise NotImplementedError


async def search(
    conn: AsyncConnection, query: SearchQuery, *, viewer: Viewer, purpose: Purpose, now: datetime, limit: int = MAX_HITS
) -> list[SearchHit]:
    """Exact for documents and vehicles (score 1.0), fuzzy for persons (at or above the purpose's threshold), best first."""
    raise NotImplementedError


async def remove_expired(conn: AsyncConnection, now: datetime, *, limit: int = 500) -> list[Removed]:
    """Delete records past their retention end (and persons whose notice is no longer published)."""
    raise NotImplementedError


async def counts(conn: AsyncConnection) -> dict[Database, int]:
    raise NotImplementedError


async def remove_for_notice(conn: AsyncConnection, notice_ids: Sequence[str], now: datetime) -> list[Removed]:
    """Delete the person records fed by these notices (cancelled)."""
    raise NotImplementedError
