"""The GS as root of trust: keeps the office keys, signs and distributes the key directory.

Every change (a rotation announced by an office, a revocation decided here) writes the keys,
a newly signed directory version and its audit record in one unit of work; once that has
committed it wakes a publisher loop, which puts the newest version on the bus (last value kept
in MESH_KEYS), like an outbox for the directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.audit import AuditEvent
from interpol_mesh.audit.model import KEY_CHANGE
from interpol_mesh.auth.deps import ADMIN, requires
from interpol_mesh.bus import subjects
from interpol_mesh.clock import utc
from interpol_mesh.crypto import KeyDirectoryDocument, KeyRecord, Signer, read_private_key, sign_directory
from interpol_mesh.crypto.key_directory import REASON_LIMIT
from interpol_mesh.crypto.provisioning import ROOT_KEY_FILE
from interpol_mesh.directory import GS_ID
from interpol_mesh.envelope import Verified
from interpol_mesh.messages import KeyRotation
from interpol_mesh.messaging import OfficeContext, UnitOfWork
from interpol_mesh.storage import tables
from interpol_offices.general_secretariat.key_policy import listed, revocation_reach, rotation_refusal, size_limit

log = logging.getLogger(__name__)


def _record(row: sa.Row[tuple[object, ...]]) -> KeyRecord:
    m = row._mapping
    return KeyRecord(
        key_id=m["key_id"],
        office_id=m["office_id"],
        public_key=m["public_key"],
        valid_from=utc(m["valid_from"]),
        valid_until=utc(m["valid_until"]) if m["valid_until"] else None,
        revoked_from=utc(m["revoked_from"]) if m["revoked_from"] else None,
        enrolled_by=m["enrolled_by"],
        revocation_reason=_gist(m["revocation_reason"]),
    )


async def _one_key_change_at_a_time(conn: AsyncConnection) -> None:
    """PostgreSQL: key changes read the key table and sign version N+1; two at once could sign the
    same version, or one could sign from a read that misses the other's change (a revocation
    left out of the newest directory). SQLite already runs an office's writers one at a time."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("LOCK TABLE office_keys IN SHARE ROW EXCLUSIVE MODE"))


def _gist(reason: str | None) -> str | None:
    """The directory carries the gist of a reason (every office refuses a record above the limit);
    the full text stays in `office_keys`."""
    if reason is None or len(reason) <= REASON_LIMIT:
        return reason
    return reason[: REASON_LIMIT - 1] + "…"


async def _keys(conn: AsyncConnection, office_id: str | None = None) -> list[KeyRecord]:
    """The GS's full key history (or one office's): every key ever listed, pruned or not."""
    ok = tables.office_keys
    query = sa.select(ok).order_by(ok.c.key_id)
    if office_id is not None:
        query = query.where(ok.c.office_id == office_id)
    return [_record(r) for r in (await conn.execute(query)).all()]


class DirectoryTooLarge(Exception):
    """A version that would not fit the bus; refused at signing rather than wedging the publisher."""


@dataclass
class KeyAuthority:
    """Per-GS-instance state: the root signer and the publisher's wake-up."""

    root: Signer | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    published_version: int = 0

    def root_signer(self, ctx: OfficeContext) -> Signer:
        if self.root is None:
            self.root = read_private_key(ctx.settings.key_dir / ROOT_KEY_FILE, expected_office=GS_ID)
        return self.root

    async def sign_new_version(self, uow: UnitOfWork, keys: list[KeyRecord]) -> int:
        """Sign `keys` (the whole history; pruned here) as the next directory version, in the caller's unit
        of work; the publisher is woken once it has committed.

        Raises DirectoryTooLarge, before writing anything, if the signed version would not fit the bus.
        """
        conn, ctx = uow.conn, uow.ctx
        kd = tables.key_directory
        stored = (await conn.execute(sa.select(sa.func.max(kd.c.version)))).scalar() or 0
        version = max(stored, ctx.keyring.current.version) + 1
        now = ctx.clock.now()
        ok = tables.office_keys
        decided = await conn.execute(sa.select(ok.c.key_id, ok.c.revoked_at).where(ok.c.revoked_at.is_not(None)))
        revoked_at = {r.key_id: utc(r.revoked_at) for r in decided}
        document = KeyDirectoryDocument(version=version, issued_at=now, keys=listed(keys, now, revoked_at))
        signed = sign_directory(document, self.root_signer(ctx))
        limit = size_limit(ctx.nc.max_payload)
        if len(signed) > limit:
            raise DirectoryTooLarge(f"directory v{version} would be {len(signed)} bytes, above the limit of {limit}")
        await conn.execute(kd.insert().values(version=version, issued_at=document.issued_at, signed=signed))
        uow.after_commit(self.wake.set)  # published by `publisher`
        return version

    async def seed(self, ctx: OfficeContext) -> None:
        """First start: the key table comes from the directory the GS itself runs on (bootstrap)."""
        self.root_signer(ctx)  # a missing root key is a start-up error, not a later surprise
        async with ctx.transaction() as uow:
            count = (await uow.conn.execute(sa.select(sa.func.count()).select_from(tables.office_keys))).scalar_one()
            if count == 0:
                records = ctx.keyring.current.document.keys
                await uow.conn.execute(tables.office_keys.insert(), [r.model_dump() for r in records])
            uow.after_commit(self.wake.set)  # publish at start whatever is stored

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
            log.info("key directory published", extra={"version": row.version, "bytes": len(row.signed)})

    async def publisher(self, ctx: OfficeContext) -> None:
        while True:
            try:
                await self.publish_latest(ctx)
            except Exception as exc:  # bus away: the version stays stored and is published later
                log.warning("key directory publish failed", extra={"error": str(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=5.0)
            self.wake.clear()

    async def on_rotation(self, uow: UnitOfWork, verified: Verified) -> None:
        """Register an office's next key; the request is signed by its current key, proving possession.

        Judged against the GS's own key table (the truth the directory is signed from, never behind
        a revocation decided here). A refusal is logged and audited; the consumer goes on.
        """
        conn, ctx = uow.conn, uow.ctx
        body = verified.body
        assert isinstance(body, KeyRotation)
        office_id = verified.header.sender
        now = ctx.clock.now()
        await _one_key_change_at_a_time(conn)
        history = await _keys(conn, office_id)
        refusal = rotation_refusal(history, office_id, verified.key_id, body.new_key_id, now)
        if refusal is None:
            retire_at = now + timedelta(seconds=body.overlap_seconds)
            others = [k for k in await _keys(conn) if k.office_id != office_id]
            mine = [
                k.model_copy(update={"valid_until": retire_at})
                if k.valid_until is None and k.revoked_from is None
                else k
                for k in history
            ]
            new = KeyRecord(
                key_id=body.new_key_id,
                office_id=office_id,
                public_key=body.new_public_key,
                valid_from=now,
                enrolled_by=verified.key_id,
            )
            try:
                await self.sign_new_version(uow, [*others, *mine, new])
            except DirectoryTooLarge as exc:
                refusal = ("directory-too-large", str(exc))
        if refusal is not None:
            reason, detail = refusal
            log.warning("key rotation refused", extra={"office": office_id, "reason": reason, "detail": detail})
            uow.audit(_key_event(verified, reason, detail))
            return
        ok = tables.office_keys
        await conn.execute(
            ok.update()
            .where(ok.c.office_id == office_id, ok.c.valid_until.is_(None), ok.c.revoked_from.is_(None))
            .values(valid_until=retire_at)
        )
        await conn.execute(ok.insert().values(new.model_dump(exclude={"revocation_reason"})))
        uow.audit(_key_event(verified, "key-enrolled", f"{new.key_id} retires the others at {retire_at}"))


def _key_event(verified: Verified, result: str, detail: str) -> AuditEvent:
    h = verified.header
    return AuditEvent(
        event=KEY_CHANGE, result=result, message_id=h.message_id, digest=verified.digest, sender=h.sender, detail=detail
    )


def _iso_text(value: object) -> object:
    """A number is not a time here: `0` would silently mean "revoked since 1970"."""
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("invalid_from must be an ISO 8601 date-time string with a time zone")
    return value


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invalid_from: Annotated[AwareDatetime | None, BeforeValidator(_iso_text)] = Field(
        None, description="Everything signed by the key from this time on is refused; default now"
    )
    reason: str = Field(..., min_length=1, max_length=1000, examples=["key file exposed on a compromised workstation"])


class DirectoryVersion(BaseModel):
    key_id: str
    version: int
    invalid_from: datetime
    also_revoked: list[str] = Field(
        default_factory=list, description="Keys the revoked key enrolled after invalid_from"
    )


def build_key_router(authority: KeyAuthority) -> APIRouter:
    router = APIRouter(prefix="/v1/keys", tags=["keys"], dependencies=[requires(ADMIN)])

    @router.post(
        "/{key_id:path}/revoke",
        response_model=DirectoryVersion,
        summary="Revoke a key from a given time",
        responses={404: {"description": "No such key"}, 503: {"description": "The directory would not fit the bus"}},
    )
    async def revoke(key_id: str, req: Revocation, ctx: CtxDep) -> DirectoryVersion:
        """Signs and publishes a new directory; every office then refuses the key's messages signed after `invalid_from`.

        Every key the revoked key enrolled at or after `invalid_from` is revoked with it, from its
        own start (and so on down the chain), with `revocation_reason` naming the enroller. An
        earlier `invalid_from` already set is never moved later.
        """
        ok = tables.office_keys
        invalid_from = req.invalid_from or ctx.clock.now()
        async with ctx.transaction() as uow:
            conn = uow.conn
            await _one_key_change_at_a_time(conn)
            keys = await _keys(conn)
            if key_id not in {k.key_id for k in keys}:
                raise HTTPException(404, f"no key {key_id}")
            reach = revocation_reach(keys, key_id, invalid_from, req.reason)
            revoked = [
                k.model_copy(
                    update={"revoked_from": reach[k.key_id][0], "revocation_reason": _gist(reach[k.key_id][1])}
                )
                if k.key_id in reach
                else k
                for k in keys
            ]
            decided_at = ctx.clock.now()
            for kid, (since, why) in reach.items():  # rolled back with the rest if the version cannot be signed
                await conn.execute(
                    ok.update()
                    .where(ok.c.key_id == kid)
                    .values(revoked_from=since, revocation_reason=why, revoked_at=decided_at)
                )
            try:
                version = await authority.sign_new_version(uow, revoked)
            except DirectoryTooLarge as exc:  # cannot happen within the rotation bounds; say so loudly if it does
                log.error("revocation not signed", extra={"key_id": key_id, "error": str(exc)})
                raise HTTPException(503, f"revocation not signed: {exc}") from None
            uow.audit(
                AuditEvent(
                    event=KEY_CHANGE,
                    result="key-revoked",
                    detail=f"{', '.join(sorted(reach))} from {invalid_from.isoformat()}: {req.reason}",
                )
            )
        return DirectoryVersion(
            key_id=key_id, version=version, invalid_from=invalid_from, also_revoked=sorted(set(reach) - {key_id})
        )

    return router


def key_authority() -> KeyAuthority:
    return KeyAuthority()
