"""Seal and open signed envelopes (DSSE JSON): sign the exact bytes, verify before parsing."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from nacl.exceptions import BadSignatureError
from pydantic import BaseModel, ValidationError

from interpol_mesh.crypto import KeyDirectory, Signer, pae
from interpol_mesh.envelope.header import Header, SignedContent
from interpol_mesh.envelope.rejection import Rejected
from interpol_mesh.messages import BODY_MODELS, kind_of, payload_type

MAX_ENVELOPE_BYTES = 256 * 1024
MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Sealed:
    data: bytes
    digest: str


@dataclass(frozen=True)
class Verified:
    """An envelope that passed every stateless check; handlers only ever see these."""

    header: Header
    body: BaseModel
    key_id: str
    digest: str
    raw: bytes


def digest_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def seal(header: Header, body: BaseModel, signer: Signer) -> Sealed:
    """Serialise header and body once and sign those exact bytes with the payload type bound in."""
    if signer.office_id != header.sender:
        raise ValueError(f"signer of {signer.office_id} cannot sign for {header.sender}")
    ptype = payload_type(header.kind)
    payload = b'{"header":' + header.model_dump_json().encode() + b',"body":' + body.model_dump_json().encode() + b"}"
    signature = signer.sign(pae(ptype, payload))
    data = json.dumps(
        {
            "payloadType": ptype,
            "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": signer.key_id, "sig": base64.b64encode(signature).decode()}],
        },
        separators=(",", ":"),
    ).encode()
    return Sealed(data=data, digest=digest_of(data))


def _outer(raw: bytes) -> tuple[str, bytes, list[tuple[str, bytes]]]:
    try:
        outer = json.loads(raw)
        ptype = outer["payloadType"]
        payload = base64.b64decode(outer["payload"], validate=True)
        sigs = [(str(s["keyid"]), base64.b64decode(s["sig"], validate=True)) for s in outer["signatures"]]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
        raise Rejected("malformed", f"not a signed envelope: {type(exc).__name__}") from None
    if not isinstance(ptype, str) or not sigs:
        raise Rejected("malformed", "payloadType or signatures missing")
    return ptype, payload, sigs


def open_envelope(
    raw: bytes,
    *,
    subject_sender: str,
    recipient: str,
    keys: KeyDirectory,
    now: datetime,
    stored_at: datetime | None = None,
) -> Verified:
    """Check, in order, everything that needs no database; raise Rejected with the first failure.

    The payload is parsed only after its signature verified against a key that the directory
    says belongs to the sender named by the (server-enforced) subject.
    """
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise Rejected("oversized", f"{len(raw)} bytes > {MAX_ENVELOPE_BYTES}")
    ptype, payload, sigs = _outer(raw)
    kind = kind_of(ptype)
    if kind is None:
        raise Rejected("unsupported-type", f"payload type {ptype[:120]!r}")
    key_id, signature = sigs[0]
    record = keys.record(key_id)
    if record is None:
        raise Rejected("unknown-key", f"key {key_id[:100]!r} is not in key directory v{keys.version}")
    if record.office_id != subject_sender:
        raise Rejected("wrong-office-key", f"key {key_id} belongs to {record.office_id}, sender is {subject_sender}")
    try:
        keys.verify_key(key_id).verify(pae(ptype, payload), signature)
    except (BadSignatureError, ValueError):  # PyNaCl raises ValueError for a signature of the wrong length
        raise Rejected("bad-signature", f"signature by {key_id} does not verify") from None
    try:
        content = SignedContent.model_validate_json(payload)
    except ValidationError as exc:
        raise Rejected("malformed", f"signed header invalid: {exc.errors()[0]['msg']}") from None
    header = content.header
    mid = header.message_id
    if header.kind != kind or header.sender != subject_sender:
        raise Rejected("header-mismatch", f"header says {header.sender}/{header.kind}", message_id=mid)
    if recipient not in header.recipients:
        raise Rejected("not-a-recipient", f"{recipient} is not among the recipients", message_id=mid)
    problem = record.problem_at(header.created_at)
    if problem is not None:
        raise Rejected(problem, f"key {key_id} at signing time {header.created_at.isoformat()}", message_id=mid)
    # The signing time is the sender's claim: a stolen key could backdate it. The server's own
    # storage time bounds it: nothing stored after the revocation (or well after the key's end) counts.
    if stored_at is not None:
        if record.revoked_from is not None and stored_at >= record.revoked_from:
            raise Rejected("revoked-key", f"key {key_id} revoked before the bus stored this message", message_id=mid)
        if record.valid_until is not None and stored_at >= record.valid_until + MAX_CLOCK_SKEW:
            raise Rejected(
                "key-not-valid-at-signing-time", f"key {key_id} expired before the bus stored this", message_id=mid
            )
    if header.created_at > now + MAX_CLOCK_SKEW:
        raise Rejected("from-the-future", f"created {header.created_at.isoformat()}", message_id=mid)
    if header.expires_at is not None and header.expires_at <= now:
        raise Rejected("expired", f"expired at {header.expires_at.isoformat()}", message_id=mid)
    try:
        body = BODY_MODELS[kind].model_validate(content.body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Rejected("schema-invalid", f"{kind} body: {where}: {first['msg']}", message_id=mid) from None
    return Verified(header=header, body=body, key_id=key_id, digest=digest_of(raw), raw=raw)
