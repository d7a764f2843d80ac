"""Records in and out of the police tables, and the one search every holder of them runs.

Visibility is decided in SQL before any scoring: a restricted record the viewer may not see is never
a candidate, so a search gives no hint that it exists (same hits, same work as for an absent record).
A change replaces the record's rows whole (delete, then insert) inside the caller's unit of work: a
record is small, and one code path for add and update is one path to get right on both backends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.clock import utc
from interpol_mesh.messages.records import (
    Database,
    Purpose,
    RecordChange,
    SearchHit,
    SearchQuery,
    TravelDocument,
    Vehicle,
    WantedPerson,
)
from interpol_offices.police_data import names, tables
from interpol_offices.police_data.identifiers import document_key, plate_key
from interpol_offices.police_data.vin import vin_key

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
class Audience:
    """Who may see one version of a record: its owner, and every member (`countries` None) or the listed ones."""

    owner_office: str
    countries: frozenset[str] | None

    def includes(self, office_id: str, country: str | None) -> bool:
        return office_id == self.owner_office or self.countries is None or (country or "") in self.countries


@dataclass(frozen=True)
class Applied:
    """What an accepted change did: the record it names, the GS revision it now carries, who saw it before."""

    record_id: str
    revision: int
    removed: bool  # a cancel (or an expiry) that deleted a record
    before: Audience | None  # who could see the version replaced or removed; None: it was not held
    retention_until: datetime | None = None  # an upsert's, as stored (the copies keep the GS's, not their own)


@dataclass(frozen=True)
class _Held:
    created_at: datetime
    revision: int
    audience: Audience
    retention_until: datetime


async def next_revision(conn: AsyncConnection) -> int:
    """The GS's change counter, one row; the UPDATE takes its row lock, so concurrent changes get distinct numbers."""
    r = tables.revisions
    row = (
        await conn.execute(
            sa.update(r).where(r.c.id == 1).values(last_revision=r.c.last_revision + 1).returning(r.c.last_revision)
        )
    ).first()
    if row is not None:
        return int(row[0])
    await conn.execute(sa.insert(r).values(id=1, last_revision=1))
    return 1


async def apply_change(
    conn: AsyncConnection, change: RecordChange, *, source_message_id: str, now: datetime
) -> Applied | None:
    """GS: upsert or delete the owner's record under a new revision; None for a cancel of a record not held.

    The caller has checked the owner rules (`contributions.py`); identifiers are normalised here, so
    the exact search compares keys only.
    """
    rid = record_id(change.database, change.owner_office, change.record_ref)
    if change.operation == "cancel":
        return await remove_record(conn, change.database, rid)
    revision = await next_revision(conn)  # first: its row lock orders every change, so what is held is current
    held = await _held(conn, change.database, rid)
    await _delete(conn, change.database, rid)
    created_at = held.created_at if held else now
    change = change.model_copy(update={"retention_until": change.retention_until or now + DEFAULT_RETENTION})
    await _write(conn, change, revision=revision, source_message_id=source_message_id, created_at=created_at, now=now)
    return Applied(rid, revision, removed=False, before=held.audience if held else None,
                   retention_until=change.retention_until)  # fmt: skip


async def remove_record(
    conn: AsyncConnection, database: Database, rid: str, *, expired_at: datetime | None = None
) -> Applied | None:
    """GS: delete a record under a new revision (its owner cancelled it, or it ran out); None if not held.

    `expired_at`: only if its retention end has passed then, read under the lock (its owner may
    have renewed it since the sweep listed it).
    """
    revision = await next_revision(conn)  # first: its row lock orders every change, so what is held is current
    held = await _held(conn, database, rid)
    if held is None or (expired_at is not None and utc(held.retention_until) > expired_at):
        return None
    await _delete(conn, database, rid)
    return Applied(rid, revision, removed=True, before=held.audience)


async def apply_copy(conn: AsyncConnection, change: RecordChange, *, changed_at: datetime, now: datetime) -> str:
    """National copy: apply the GS's change if its revision is newer than what is held; what it did.

    Changes may arrive in any order (redelivery, a consumer restart): a record's revision decides,
    and a tombstone keeps a cancel's revision so a late upsert cannot bring the record back.
    """
    assert change.revision is not None and change.source_message_id is not None  # the copy handler checks
    rid = record_id(change.database, change.owner_office, change.record_ref)
    held = await _held(conn, change.database, rid)
    t = tables.tombstones
    buried = (await conn.execute(sa.select(t.c.revision).where(t.c.record_id == rid))).scalar_one_or_none()
    if change.revision <= max(held.revision if held else 0, buried or 0):
        return "stale"
    await _delete(conn, change.database, rid)
    await conn.execute(sa.delete(t).where(t.c.record_id == rid))
    if change.operation == "cancel":
        await conn.execute(sa.insert(t).values(record_id=rid, revision=change.revision, deleted_at=now))
        result = "removed" if held else "nothing-to-cancel"
    else:
        created_at = held.created_at if held else now
        await _write(
            conn, change, revision=change.revision, source_message_id=change.source_message_id,
            created_at=created_at, now=now,
        )  # fmt: skip
        result = "stored"
    await _advance_copy_state(conn, change.revision, changed_at=changed_at, now=now)
    return result


async def _advance_copy_state(conn: AsyncConnection, revision: int, *, changed_at: datetime, now: datetime) -> None:
    s = tables.copy_state
    newer = s.c.last_revision < revision
    updated = await conn.execute(
        sa.update(s).where(s.c.id == 1).values(
            last_revision=sa.case((newer, revision), else_=s.c.last_revision),
            changed_at=sa.case((newer, changed_at), else_=s.c.changed_at),
            applied_at=now,
        )
    )  # fmt: skip
    if updated.rowcount == 0:
        await conn.execute(sa.insert(s).values(id=1, last_revision=revision, changed_at=changed_at, applied_at=now))


@dataclass(frozen=True)
class CopyState:
    """How fresh a national copy is: the newest GS revision applied and the GS's time of that change."""

    last_revision: int
    changed_at: datetime | None
    applied_at: datetime | None


async def copy_state(conn: AsyncConnection) -> CopyState:
    s = tables.copy_state
    row = (await conn.execute(sa.select(s).where(s.c.id == 1))).mappings().first()
    if row is None:
        return CopyState(0, None, None)
    changed, applied = row["changed_at"], row["applied_at"]
    return CopyState(int(row["last_revision"]), changed and utc(changed), applied and utc(applied))


async def _write(
    conn: AsyncConnection, change: RecordChange, *, revision: int, source_message_id: str, created_at: datetime,
    now: datetime,
) -> None:  # fmt: skip
    rid = record_id(change.database, change.owner_office, change.record_ref)
    common: dict[str, Any] = {
        "record_id": rid,
        "owner_office": change.owner_office,
        "record_ref": change.record_ref,
        "instructions": change.instructions,
        "restricted": change.visible_to is not None,
        "source_message_id": source_message_id,
        "revision": revision,
        "retention_until": change.retention_until or now + DEFAULT_RETENTION,
        "created_at": created_at,
        "updated_at": now,
    }
    table = tables.TABLES_BY_DATABASE[change.database]
    await conn.execute(sa.insert(table).values(**common, **_subject_columns(change)))
    if change.visible_to is not None:
        countries = sorted(set(change.visible_to))
        if countries:
            await conn.execute(sa.insert(tables.visibility), [{"record_id": rid, "country": c} for c in countries])
    if change.person is not None:
        keys = sorted(names.record_keys(change.person))
        if keys:
            await conn.execute(sa.insert(tables.person_keys), [{"key": k, "record_id": rid} for k in keys])


def _subject_columns(change: RecordChange) -> dict[str, Any]:
    if change.document is not None:
        d = change.document
        return {
            "number_key": document_key(d.number, field="document.number"),
            "number": d.number,
            "issuing_country": d.issuing_country,
            "document_type": d.document_type,
            "status": d.status,
            "issued_on": d.issued_on,
            "expires_on": d.expires_on,
            "reported_on": d.reported_on,
        }
    if change.vehicle is not None:
        v = change.vehicle
        return {
            "vin_key": vin_key(v.vin) if v.vin else None,
            "plate_key": plate_key(v.plate, field="vehicle.plate") if v.plate else None,
            "plate_country": v.plate_country,
            "details": v.model_dump(mode="json"),
        }
    assert change.person is not None  # RecordChange guarantees one subject for an upsert
    p = change.person
    return {"details": p.model_dump(mode="json"), "date_of_birth": p.date_of_birth, "notice_id": p.notice_id}


async def _held(conn: AsyncConnection, database: Database, rid: str) -> _Held | None:
    table = tables.TABLES_BY_DATABASE[database]
    columns = (table.c.created_at, table.c.revision, table.c.owner_office, table.c.restricted, table.c.retention_until)
    row = (await conn.execute(sa.select(*columns).where(table.c.record_id == rid))).first()
    if row is None:
        return None
    countries: frozenset[str] | None = None
    if row.restricted:
        v = tables.visibility
        countries = frozenset((await conn.execute(sa.select(v.c.country).where(v.c.record_id == rid))).scalars())
    return _Held(row.created_at, int(row.revision), Audience(row.owner_office, countries), row.retention_until)


async def _delete(conn: AsyncConnection, database: Database, rid: str) -> None:
    table = tables.TABLES_BY_DATABASE[database]
    await conn.execute(sa.delete(table).where(table.c.record_id == rid))
    await conn.execute(sa.delete(tables.visibility).where(tables.visibility.c.record_id == rid))
    if database == "persons":
        await conn.execute(sa.delete(tables.person_keys).where(tables.person_keys.c.record_id == rid))


def _visible(table: sa.Table, viewer: Viewer) -> sa.ColumnElement[bool]:
    if viewer.sees_all:
        return sa.true()
    allowed = sa.exists().where(
        tables.visibility.c.record_id == table.c.record_id, tables.visibility.c.country == (viewer.country or "")
    )
    return sa.or_(table.c.restricted.is_(False), table.c.owner_office == viewer.office_id, allowed)


async def search(
    conn: AsyncConnection, query: SearchQuery, *, viewer: Viewer, purpose: Purpose, now: datetime, limit: int = MAX_HITS
) -> list[SearchHit]:
    """Exact for documents and vehicles (score 1.0), fuzzy for persons (at or above the purpose's threshold), best first.

    Records past their retention end are never returned, even before the sweep deletes them.
    """
    if query.database == "sltd":
        return await _search_documents(conn, query, viewer, now, limit)
    if query.database == "smv":
        return await _search_vehicles(conn, query, viewer, now, limit)
    return await _search_persons(conn, query, viewer, purpose, now, limit)


async def _search_documents(
    conn: AsyncConnection, query: SearchQuery, viewer: Viewer, now: datetime, limit: int
) -> list[SearchHit]:
    if query.document_number is None:
        return []
    t = tables.documents
    where = [t.c.number_key == document_key(query.document_number), t.c.retention_until > now, _visible(t, viewer)]
    if query.issuing_country is not None:
        where.append(t.c.issuing_country == query.issuing_country)
    rows = (await conn.execute(sa.select(t).where(*where).order_by(t.c.record_id).limit(limit))).mappings().all()
    hits = []
    for row in rows:
        document = TravelDocument(
            number=row["number"], document_type=row["document_type"], issuing_country=row["issuing_country"],
            status=row["status"], issued_on=row["issued_on"], expires_on=row["expires_on"],
            reported_on=row["reported_on"],
        )  # fmt: skip
        reasons = ["document number exact"] + (["issuing country exact"] if query.issuing_country else [])
        hits.append(_hit(row, "sltd", 1.0, reasons, document=document))
    return hits


async def _search_vehicles(
    conn: AsyncConnection, query: SearchQuery, viewer: Viewer, now: datetime, limit: int
) -> list[SearchHit]:
    t = tables.vehicles
    vin = vin_key(query.vin) if query.vin is not None else None
    plate_wanted = plate_key(query.plate) if query.plate is not None else None
    matches: list[sa.ColumnElement[bool]] = []
    if vin is not None:
        matches.append(t.c.vin_key == vin)
    if plate_wanted is not None:
        plate = t.c.plate_key == plate_wanted
        matches.append(sa.and_(plate, t.c.plate_country == query.plate_country) if query.plate_country else plate)
    if not matches:
        return []
    stmt = sa.select(t).where(sa.or_(*matches), t.c.retention_until > now, _visible(t, viewer))
    rows = (await conn.execute(stmt.order_by(t.c.record_id).limit(limit))).mappings().all()
    hits = []
    for row in rows:
        reasons = []
        if vin is not None and row["vin_key"] == vin:
            reasons.append("VIN exact")
        if plate_wanted is not None and row["plate_key"] == plate_wanted:
            reasons.append(f"plate exact ({row['plate_country']})")
        hits.append(_hit(row, "smv", 1.0, reasons, vehicle=Vehicle.model_validate(row["details"])))
    return hits


async def _search_persons(
    conn: AsyncConnection, query: SearchQuery, viewer: Viewer, purpose: Purpose, now: datetime, limit: int
) -> list[SearchHit]:
    if query.person is None:
        return []
    keys = sorted(names.query_keys(query.person))
    if not keys:
        return []
    t, k = tables.persons, tables.person_keys
    # The records sharing the most keys first: with a common name, the cap must cut the weakest.
    shared = sa.func.count().label("shared")
    candidates = (
        sa.select(k.c.record_id, shared).where(k.c.key.in_(keys)).group_by(k.c.record_id)
        .order_by(shared.desc(), k.c.record_id).limit(names.MAX_CANDIDATES).subquery()
    )  # fmt: skip
    stmt = sa.select(t).join(candidates, candidates.c.record_id == t.c.record_id)
    rows = (await conn.execute(stmt.where(t.c.retention_until > now, _visible(t, viewer)))).mappings().all()
    threshold = names.THRESHOLDS[purpose]
    scored = []
    for row in rows:
        person = WantedPerson.model_validate(row["details"])
        match = names.score(query.person, person)
        if match.score >= threshold:
            scored.append(_hit(row, "persons", round(match.score, 4), list(match.reasons), person=person))
    scored.sort(key=lambda h: (-h.score, h.record_id))
    return scored[:limit]


def _hit(row: Any, database: Database, score: float, reasons: list[str], **subject: Any) -> SearchHit:
    return SearchHit(
        record_id=row["record_id"], database=database, owner_office=row["owner_office"],
        record_ref=row["record_ref"], score=score, reasons=tuple(reasons), instructions=row["instructions"],
        revision=row["revision"], **subject,
    )  # fmt: skip


async def counts(conn: AsyncConnection) -> dict[Database, int]:
    """Records held per database (the national-copy and operator views; not on a search's path)."""
    result: dict[Database, int] = {}
    for database, table in tables.TABLES_BY_DATABASE.items():
        result[database] = int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())  # type: ignore[index]
    return result


async def remove_expired(conn: AsyncConnection, now: datetime, *, limit: int = 500) -> list[Applied]:
    """GS: delete up to `limit` records past their retention end, each under a new revision (for the copies)."""
    removed: list[Applied] = []
    for database, table in tables.TABLES_BY_DATABASE.items():
        due = sa.select(table.c.record_id).where(table.c.retention_until <= now).order_by(table.c.retention_until)
        for rid in (await conn.execute(due.limit(limit - len(removed)))).scalars().all():
            applied = await remove_record(conn, database, rid, expired_at=now)  # type: ignore[arg-type]
            if applied is not None:
                removed.append(applied)
        if len(removed) >= limit:
            break
    return removed
