"""The hash chain: canonical bytes of a record and hash = sha256(previous hash + record bytes).

Verification recomputes these bytes from the raw stored values (never through the model's
cleaning), so any change to a stored value changes the hash.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from interpol_mesh.clock import utc

RECORD_FORMAT = 1


def iso_utc(value: datetime) -> str:
    """One spelling per instant: UTC, microseconds, `Z` (SQLite returns naive UTC values)."""
    return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, ASCII only (so encoding can never fail)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def record_bytes(
    *,
    seq: int,
    at: datetime,
    event: str,
    message_id: str | None,
    digest: str | None,
    sender: str | None,
    recipients: Any,
    result: str,
    detail: str,
) -> bytes:
    """The bytes a record's hash covers; `seq` is inside, so moving a record breaks its hash."""
    return canonical_json(
        {
            "v": RECORD_FORMAT,
            "seq": seq,
            "at": iso_utc(at),
            "event": event,
            "message_id": message_id,
            "digest": digest,
            "sender": sender,
            "recipients": recipients,
            "result": result,
            "detail": detail,
        }
    )


def chain_hash(prev_hash: str, record: bytes) -> str:
    """Hex sha256 over the previous hash's 32 bytes then the record bytes.

    A stored `prev_hash` that is not hex (tampered) raises ValueError; the verifier reports it.
    """
    return hashlib.sha256(bytes.fromhex(prev_hash) + record).hexdigest()


def stored_record_bytes(row: Any, seq: int | None = None) -> bytes:
    """Record bytes from a stored audit_log row, optionally as if it sat at another `seq`."""
    return record_bytes(
        seq=row.seq if seq is None else seq,
        at=row.at,
        event=row.event,
        message_id=row.message_id,
        digest=row.digest,
        sender=row.sender,
        recipients=row.recipients,
        result=row.result,
        detail=row.detail,
    )
