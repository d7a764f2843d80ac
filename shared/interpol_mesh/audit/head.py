"""Signed chain heads: the office's key attests "my log had `seq` records ending in `hash`".

Anyone who can write the database can recompute every hash of a rewritten log, but not these
signatures; `verify_chain` compares every signed head with the recomputed chain. Each signed head
is also written to the office's log output, a copy outside the database.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from interpol_mesh.audit.chain import canonical_json, iso_utc
from interpol_mesh.audit.store import AuditHeadMissing
from interpol_mesh.audit.tables import HEAD_ID, audit_head, audit_head_signatures
from interpol_mesh.clock import Clock, utc
from interpol_mesh.crypto import KeyRecord, Signer, pae
from interpol_mesh.storage import DATABASE_ERRORS, writing

log = logging.getLogger(__name__)

AUDIT_HEAD_TYPE = "application/vnd.interpol-mesh.audit-head.v1+json"
DEFAULT_SIGN_INTERVAL = 60.0  # seconds between checks; a head is signed only when it moved
FINAL_SIGN_TIMEOUT = 2.0


class KeyLookup(Protocol):
    """What verification needs from the GS-signed key directory (`KeyDirectory` fits)."""

    def record(self, key_id: str) -> KeyRecord | None: ...

    def verify_key(self, key_id: str) -> VerifyKey: ...


@dataclass(frozen=True)
class SignedHead:
    seq: int
    hash: str
    signed_at: datetime
    key_id: str
    signature: str  # base64 Ed25519


def head_payload(office_id: str, seq: int, hash_: str, signed_at: datetime) -> bytes:
    """The signed bytes; the office id is inside so a head cannot be moved to another office's log."""
    body = canonical_json({"office_id": office_id, "seq": seq, "hash": hash_, "signed_at": iso_utc(signed_at)})
    return pae(AUDIT_HEAD_TYPE, body)


async def read_head(conn: AsyncConnection) -> tuple[int, str]:
    row = (
        await conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID))
    ).one_or_none()
    if row is None:
        raise AuditHeadMissing("audit_head row missing: apply the audit_0002 migration")
    return int(row.seq), str(row.hash)


async def write_signed_head(conn: AsyncConnection, office_id: str, signer: Signer, now: datetime) -> SignedHead:
    """Sign the committed head as read on `conn` and store the signature (no lock on the head)."""
    seq, hash_ = await read_head(conn)
    signed_at = utc(now)
    signature = base64.b64encode(signer.sign(head_payload(office_id, seq, hash_, signed_at))).decode()
    signed = SignedHead(seq, hash_, signed_at, signer.key_id, signature)
    await conn.execute(
        audit_head_signatures.insert().values(
            seq=seq, hash=hash_, signed_at=signed_at, key_id=signed.key_id, signature=signature
        )
    )
    return signed


async def sign_head(engine: AsyncEngine, office_id: str, signer: Signer, now: datetime) -> SignedHead:
    """Sign the office's current audit head now, with `signer` (the office's current key)."""
    async with writing(engine) as conn:
        signed = await write_signed_head(conn, office_id, signer, now)
    log.info(
        "audit head signed",
        extra={
            "audit_seq": signed.seq,
            "audit_hash": signed.hash,
            "key_id": signed.key_id,
            "signature": signed.signature,
        },
    )
    return signed


SIGNED_AFTER_REVOCATION = "signed after its key's revocation"


def signature_problem(keys: KeyLookup, office_id: str, signed: SignedHead) -> str | None:
    """Why `signed` is not the office's genuine signature, or None if it is.

    The key is judged by its record at the head's signing time, like a message by its creation
    time. A genuine signature made at or after the key's revocation gives SIGNED_AFTER_REVOCATION:
    the office may well have made it (it learns of the revocation later), but it proves nothing,
    since whoever stole the key could have made it too.
    """
    record = keys.record(signed.key_id)
    if record is None:
        return f"key {signed.key_id} is not in the key directory"
    if record.office_id != office_id:
        return f"key {signed.key_id} belongs to {record.office_id}, not {office_id}"
    try:
        raw = base64.b64decode(signed.signature, validate=True)
        keys.verify_key(signed.key_id).verify(head_payload(office_id, signed.seq, signed.hash, signed.signed_at), raw)
    except (CryptoError, ValueError):
        return "the signature does not verify"
    problem = record.problem_at(utc(signed.signed_at))
    if problem == "revoked-key":
        return SIGNED_AFTER_REVOCATION
    if problem is not None:
        return f"key {signed.key_id}: {problem} ({iso_utc(signed.signed_at)})"
    return None


async def _last_signed(engine: AsyncEngine) -> tuple[int, str] | None:
    sigs = audit_head_signatures.c
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(sigs.seq, sigs.hash).order_by(sigs.id.desc()).limit(1))).first()
    return None if row is None else (int(row.seq), str(row.hash))


async def _current(engine: AsyncEngine) -> tuple[int, str]:
    async with engine.connect() as conn:
        return await read_head(conn)


async def head_signer(
    engine: AsyncEngine,
    office_id: str,
    current_signer: Callable[[], Signer],
    clock: Clock,
    interval: float = DEFAULT_SIGN_INTERVAL,
    checked: Callable[[], None] | None = None,
) -> None:
    """Background task: sign the head at start and then every `interval` seconds if it moved.

    `current_signer` is asked at each signing, since a key rotation replaces the office's signer
    while this task runs. `checked`, if given, is called after each look at the head (signed or
    not): a heartbeat, so a watcher can tell "checked and nothing to sign" from "not yet checked".
    A database outage is logged and retried at the next tick. On
    cancellation (office stop) the head is signed one last time, so a clean shutdown leaves no
    unsigned tail.
    """

    async def sign() -> SignedHead:
        return await sign_head(engine, office_id, current_signer(), clock.now())

    last = await _last_signed(engine)
    try:
        while True:
            try:
                if await _current(engine) != last:
                    signed = await sign()
                    last = (signed.seq, signed.hash)
            except DATABASE_ERRORS as exc:
                log.warning("audit head not signed; retrying", extra={"error": str(exc).splitlines()[0]})
            if checked is not None:
                checked()
            await asyncio.sleep(interval)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(FINAL_SIGN_TIMEOUT):
                if await _current(engine) != last:
                    await sign()
        raise
