"""The keys an audit check judges heads by: every directory version the office itself adopted.

The GS drops a retired or revoked key from the directory a week after its end (the directory
must stay small), but a head the office signed with it years ago must still verify. Every
office stores each version it adopted (`key_directory`), so a key's record is read from the
newest stored version that lists it: that is its last word, revocation included.
"""

from __future__ import annotations

import base64
from collections.abc import Collection

import sqlalchemy as sa
from nacl.signing import VerifyKey
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.audit.tables import audit_head_signatures
from interpol_mesh.crypto import KeyDirectoryRejected, KeyRecord, open_directory
from interpol_mesh.storage import tables


class KeyHistory:
    """A `KeyLookup` over records gathered from several directory versions."""

    def __init__(self, records: dict[str, KeyRecord]) -> None:
        self._records = records

    def record(self, key_id: str) -> KeyRecord | None:
        return self._records.get(key_id)

    def verify_key(self, key_id: str) -> VerifyKey:
        return VerifyKey(base64.b64decode(self._records[key_id].public_key))


async def key_history(conn: AsyncConnection, anchor: VerifyKey, needed: Collection[str]) -> KeyHistory | None:
    """Records of `needed` key ids, newest version first, stopping once all are found.

    None when no stored version verifies against the trust anchor (nothing to judge by). Rows
    not signed by the GS root are skipped, as the office skips them.
    """
    kd = tables.key_directory.c
    wanted = set(needed)
    found: dict[str, KeyRecord] = {}
    verified_any = False
    versions = (await conn.execute(sa.select(kd.version).order_by(kd.version.desc()))).scalars().all()
    for version in versions:
        signed = (await conn.execute(sa.select(kd.signed).where(kd.version == version))).scalar_one()
        try:
            document = open_directory(signed, anchor)
        except (KeyDirectoryRejected, ValueError):
            continue
        verified_any = True
        for record in document.keys:
            if record.key_id in wanted and record.key_id not in found:
                found[record.key_id] = record
        if len(found) == len(wanted):
            break
    return KeyHistory(found) if verified_any else None


async def head_key_history(conn: AsyncConnection, anchor: VerifyKey) -> KeyHistory | None:
    """The records of the keys the office's signed heads name, from every directory version it stored.

    Read from the office's own database, so a check works with the office (and the bus) down,
    and for keys the current directory no longer lists. None as for `key_history`.
    """
    sigs = audit_head_signatures.c
    needed = (await conn.execute(sa.select(sigs.key_id).distinct())).scalars().all()
    return await key_history(conn, anchor, [str(k) for k in needed])
