"""Roster versions and overrides in the database, each change validated before it is stored.

The reviewed file is the source: at start-up a file whose digest was never imported becomes
the newest version. The API can replace the roster (a new version) or add dated overrides;
every change is refused if the merged roster leaves any hour uncovered, and is recorded with
who made it and why.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.clock import utc
from interpol_mesh.errors import ConfigError
from interpol_mesh.messaging import OfficeContext
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.coverage import RosterGapError, validate
from interpol_offices.ccc_router.roster import Override, Roster, check_rows, load_roster_file, parse_roster
from interpol_offices.ccc_router.runtime import ActiveRoster, CccRuntime

KEEP_EXPIRED_OVERRIDES = timedelta(days=7)


class RosterRefused(ConfigError):
    """A roster change that breaks a rule; `reason` is the sentence shown to the operator.

    A ConfigError, so a refused roster file stops start-up with one clear line."""

    def __init__(self, reason: str, gaps: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.gaps = gaps or []


def check(ctx: OfficeContext, rt: CccRuntime, roster: Roster, where: str) -> None:
    """Row rules then coverage; RosterRefused carries the list of gaps, each named."""
    errors = check_rows(roster, ctx.directory)
    if errors:
        raise RosterRefused(f"{where}: " + "; ".join(errors))
    try:
        validate(roster, ctx.directory, ctx.clock.now(), rt.dispatch_chain.dispatch_roles, where=where)
    except RosterGapError as exc:
        raise RosterRefused(str(exc), [g.describe() for g in exc.gaps]) from None


async def _overrides(conn: AsyncConnection, now: datetime) -> list[tuple[int, Override]]:
    o = t.roster_overrides
    rows = await conn.execute(
        sa.select(o)
        .where(o.c.cancelled_at.is_(None), o.c.ends_at > now - KEEP_EXPIRED_OVERRIDES)
        .order_by(o.c.override_id)
    )
    return [
        (
            r.override_id,
            Override(
                operator=r.operator,
                kind=r.kind,
                start=utc(r.starts_at),
                end=utc(r.ends_at),
                desk=r.desk,
                reason=r.reason,
            ),
        )
        for r in rows
    ]


async def load_active(conn: AsyncConnection, ctx: OfficeContext, rt: CccRuntime) -> ActiveRoster:
    """Import the file if it changed since last imported, then load the newest version."""
    now = ctx.clock.now()
    file_roster = load_roster_file(rt.roster_file, ctx.directory)
    v = t.roster_versions
    imported = await conn.scalar(
        sa.select(v.c.version).where(v.c.source == "file", v.c.digest == file_roster.digest()).limit(1)
    )
    overrides = await _overrides(conn, now)
    if imported is None:
        merged = file_roster.with_overrides([o for _, o in overrides])
        check(ctx, rt, merged, str(rt.roster_file))
        version = await _insert_version(conn, file_roster, "file", "system", f"imported {rt.roster_file.name}", now)
        return ActiveRoster(version, file_roster, overrides)
    row = (await conn.execute(sa.select(v).order_by(v.c.version.desc()).limit(1))).one()
    base = parse_roster(row.document, ctx.directory, where=f"roster version {row.version}")
    return ActiveRoster(row.version, base, overrides)


async def _insert_version(
    conn: AsyncConnection, roster: Roster, source: str, actor: str, reason: str, now: datetime
) -> int:
    v = t.roster_versions
    latest = await conn.scalar(sa.select(sa.func.max(v.c.version)))
    version = int(latest or 0) + 1
    await conn.execute(
        v.insert().values(
            version=version,
            source=source,
            digest=roster.digest(),
            document=roster.model_dump(mode="json"),
            created_at=now,
            created_by=actor,
            reason=reason,
        )
    )
    return version


async def replace(
    conn: AsyncConnection, ctx: OfficeContext, rt: CccRuntime, roster: Roster, actor: str, reason: str, *, dry_run: bool
) -> ActiveRoster:
    assert rt.active is not None
    overrides = rt.active.overrides
    check(ctx, rt, roster.with_overrides([o for _, o in overrides]), "roster")
    if dry_run:
        return ActiveRoster(rt.active.version, roster, overrides)
    version = await _insert_version(conn, roster, "api", actor, reason, ctx.clock.now())
    return ActiveRoster(version, roster, overrides)


async def add_override(
    conn: AsyncConnection, ctx: OfficeContext, rt: CccRuntime, override: Override, actor: str
) -> tuple[int, ActiveRoster]:
    assert rt.active is not None
    merged = rt.active.roster.with_overrides([override])
    check(ctx, rt, merged, f"override ({override.operator} {override.kind})")
    o = t.roster_overrides
    result = await conn.execute(
        o.insert().values(
            operator=override.operator,
            kind=override.kind,
            starts_at=override.start,
            ends_at=override.end,
            desk=override.desk,
            reason=override.reason,
            created_at=ctx.clock.now(),
            created_by=actor,
        )
    )
    key = result.inserted_primary_key
    assert key is not None  # an INSERT of one row always has its key
    override_id = int(key[0])
    return override_id, ActiveRoster(rt.active.version, rt.active.base, [*rt.active.overrides, (override_id, override)])


async def cancel_override(conn: AsyncConnection, ctx: OfficeContext, rt: CccRuntime, override_id: int) -> ActiveRoster:
    assert rt.active is not None
    remaining = [(i, o) for i, o in rt.active.overrides if i != override_id]
    if len(remaining) == len(rt.active.overrides):
        raise RosterRefused(f"override {override_id} is not in force")
    check(ctx, rt, rt.active.base.with_overrides([o for _, o in remaining]), f"cancelling override {override_id}")
    o = t.roster_overrides
    await conn.execute(o.update().where(o.c.override_id == override_id).values(cancelled_at=ctx.clock.now()))
    return ActiveRoster(rt.active.version, rt.active.base, remaining)
