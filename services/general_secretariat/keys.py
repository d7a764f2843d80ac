"""The GS as root of trust: keeps the office keys, signs and distributes the key directory.

Every change (a rotation announced by an office, a revocation decided here) writes the keys
and a newly signed directory version in one transaction; a publisher loop then puts the
newest version on the bus (last value kept in MESH_KEYS), like an outbox for the directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.auth.deps import ADMIN, requires
from interpol_mesh.bus import subjects
from interpol_mesh.clock import utc
from interpol_mesh.crypto import KeyDirectoryDocument, KeyRecord, Signer, read_private_key, sign_directory
from interpol_mesh.envelope import Verified
from interpol_mesh.messages import KeyRotation
from interpol_mesh.messaging import OfficeContext
from interpol_mesh.storage import tables, writing

log = logging.getLogger(__name__)
ROOT_KEY_FILE = "gs-root.key"


def _record(row: sa.Row[tuple[object, ...]]) -> KeyRecord:
    m = row._mapping
    return KeyRecord(
        key_id=m["key_id"],
        office_id=m["office_id"],
        public_key=m["public_key"],
        valid_from=utc(m["valid_from"]),
        valid_until=utc(m["valid_until"]) if m["valid_until"] else None,
        revoked_from=utc(m["revoked_from"]) if m["revoked_from"] else None,
    )


@dataclass
class KeyAuthority:
    """Per-GS-instance state: the root signer and the publisher's wake-up."""

    root: Signer | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    published_version: int = 0

    def root_signer(self, ctx: OfficeContext) -> Signer:
        if self.root is None:
            self.root = read_private_key(ctx.settings.key_dir / ROOT_KEY_FILE, expected_office="gs")
        return self.root

    async def sign_new_version(self, conn: AsyncConnection, ctx: OfficeContext) -> int:
        """Sign the current key table as the next directory version, inside the caller's transaction."""
        kd = tables.key_directory
        stored = (await conn.execute(sa.select(sa.func.max(kd.c.version)))).scalar() or 0
        version = max(stored, ctx.keyring.current.version) + 1
        rows = (await conn.execute(sa.select(tables.office_keys).order_by(tables.office_keys.c.key_id))).all()
        document = KeyDirectoryDocument(
            version=version, issued_at=ctx.clock.now(), keys=tuple(_record(r) for r in rows)
        )
        signed = sign_directory(document, self.root_signer(ctx))
        await conn.execute(kd.insert().values(version=version, issued_at=document.issued_at, signed=signed))
        return version  # published by `publisher`, woken through ctx.on_commit

    async def seed(self, ctx: OfficeContext) -> None:
        """First start: the key table comes from the directory the GS itself runs on (bootstrap)."""
        self.root_signer(ctx)  # a missing root key is a start-up error, not a later surprise
        ctx.on_commit.append(self.wake.set)
        async with writing(ctx.engine) as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(tables.office_keys))).scalar_one()
            if count == 0:
                records = ctx.keyring.current.document.keys
                await conn.execute(tables.office_keys.insert(), [r.model_dump() for r in records])
        self.wake.set()

    async def publish_latest(self, ctx: OfficeContext) -> None:
        kd = tables.key_directory
        async with ctx.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(kd.c.version, kd.c.signed).order_by(kd.c.version.desc()).limit(1))
            ).first()
        if row is None:
            return
        if row.version > self.published_version or self.published_version == 0:
            await ctx.js.publish(subjects.KEY_DIRECTORY_SUBJECT, row.signed)
            await ctx.keyring.offer(row.signed)
            self.published_version = row.version
            log.info("key directory published", extra={"version": row.version})

    async def publisher(self, ctx: OfficeContext) -> None:
        while True:
            try:
                await self.publish_latest(ctx)
            except Exception as exc:  # bus away: the version stays stored and is published later
                log.warning("key directory publish failed", extra={"error": str(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=5.0)
            self.wake.clear()

    async def on_rotation(self, conn: AsyncConnection, ctx: OfficeContext, verified: Verified) -> None:
        """Register an office's next key; the request is signed by its current key, proving possession."""
        body = verified.body
        assert isinstance(body, KeyRotation)
        office_id = verified.header.sender
        if not body.new_key_id.startswith(f"{office_id}/"):
            log.warning("key rotation refused: key id must start with the office id", extra={"office": office_id})
            return
        now = ctx.clock.now()
        signing = ctx.keyring.current.record(verified.key_id)
        if signing is None or signing.problem_at(now) is not None:
            # A revoked or retired key must not be able to enrol a successor (even with a backdated request).
            log.warning("key rotation refused: signing key not valid now", extra={"office": office_id})
            return
        ok = tables.office_keys
        exists = (await conn.execute(sa.select(ok.c.key_id).where(ok.c.key_id == body.new_key_id))).first()
        if exists is not None:
            return
        await conn.execute(
            ok.update()
            .where(ok.c.office_id == office_id, ok.c.valid_until.is_(None), ok.c.revoked_from.is_(None))
            .values(valid_until=now + timedelta(seconds=body.overlap_seconds))
        )
        await conn.execute(
            ok.insert().values(
                key_id=body.new_key_id, office_id=office_id, public_key=body.new_public_key, valid_from=now
            )
        )
        await self.sign_new_version(conn, ctx)


class Revocation(BaseModel):
    invalid_from: AwareDatetime | None = Field(
        None, description="Everything signed by the key from this time on is refused; default now"
    )
    reason: str = Field(..., min_length=1, max_length=1000, examples=["key file exposed on a compromised workstation"])


class DirectoryVersion(BaseModel):
    key_id: str
    version: int
    invalid_from: datetime


def build_key_router(authority: KeyAuthority) -> APIRouter:
    router = APIRouter(prefix="/v1/keys", tags=["keys"], dependencies=[requires(ADMIN)])

    @router.post("/{key_id:path}/revoke", response_model=DirectoryVersion, summary="Revoke a key from a given time")
    async def revoke(key_id: str, req: Revocation, ctx: CtxDep) -> DirectoryVersion:
        """Signs and publishes a new directory; every office then refuses the key's messages signed after `invalid_from`."""
        ok = tables.office_keys
        invalid_from = req.invalid_from or ctx.clock.now()
        async with ctx.transaction() as conn:
            result = await conn.execute(
                ok.update().where(ok.c.key_id == key_id).values(revoked_from=invalid_from, revocation_reason=req.reason)
            )
            if result.rowcount == 0:
                raise HTTPException(404, f"no key {key_id}")
            version = await authority.sign_new_version(conn, ctx)
        return DirectoryVersion(key_id=key_id, version=version, invalid_from=invalid_from)

    return router


def key_authority() -> KeyAuthority:
    return KeyAuthority()
