"""Seal and open signed envelopes (DSSE JSON): sign the exact bytes, verify before parsing."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nacl.exceptions import BadSignatureError
from pydantic import BaseModel, ValidationError

from interpol_mesh.crypto import KeyDirectory, KeyRecord, Signer, pae
from interpol_mesh.envelope.header import MAX_CLOCK_SKEW, Header, SignedOf
from interpol_mesh.envelope.rejection import Rejected
from interpol_mesh.envelope.signers import CoSigner, check_signers
from interpol_mesh.envelope.unknown_fields import known_json, prune, recorded
from interpol_mesh.messages import BODY_MODELS, kind_of, payload_type
from interpol_mesh.messages.registry import other_major
from interpol_mesh.strict_json import b64decode_canonical, loads_strict

MAX_ENVELOPE_BYTES = 256 * 1024


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
    directory_version: int  # the key directory that verified it: part of the verification record
    cosigners: tuple[CoSigner, ...] = ()  # signatures inside the message the signer policy required
    # Fields of the signed header and body this receiver does not know (a newer v1 sender's optional
    # fields), as dotted paths such as `body.person.x_new`: ignored, kept in `raw`, never seen by handlers.
    ignored_fields: tuple[str, ...] = ()


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


_OUTER_KEYS = {"payloadType", "payload", "signatures"}
_SIGNATURE_KEYS = {"keyid", "sig"}
_SIGNED_KEYS = {"header", "body"}
_SIGNED: dict[str, type[SignedOf[BaseModel]]] = {kind: SignedOf[model] for kind, model in BODY_MODELS.items()}  # type: ignore[valid-type]


def _strict(data: bytes, what: str) -> Any:
    try:
        return loads_strict(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise Rejected("malformed", f"{what} is not JSON with one reading: {str(exc)[:200]}") from None


def _outer(raw: bytes) -> tuple[str, bytes, list[tuple[str, bytes]]]:
    """The DSSE envelope exactly: three fields, each signature exactly `keyid` and `sig`, no key id twice."""
    outer = _strict(raw, "envelope")
    if not isinstance(outer, dict) or outer.keys() != _OUTER_KEYS:
        raise Rejected("malformed", "an envelope has exactly payloadType, payload and signatures")
    ptype, payload, signatures = outer["payloadType"], outer["payload"], outer["signatures"]
    if not isinstance(ptype, str) or not isinstance(payload, str) or not isinstance(signatures, list) or not signatures:
        raise Rejected("malformed", "payloadType and payload must be strings, signatures a non-empty list")
    if not all(isinstance(s, dict) and s.keys() == _SIGNATURE_KEYS for s in signatures):
        raise Rejected("malformed", "each signature has exactly keyid and sig")
    if not all(isinstance(s["keyid"], str) and isinstance(s["sig"], str) for s in signatures):
        raise Rejected("malformed", "keyid and sig must be strings")
    if len({s["keyid"] for s in signatures}) != len(signatures):
        raise Rejected("malformed", "a key id appears twice among the signatures")
    try:
        sigs = [(s["keyid"], b64decode_canonical(s["sig"])) for s in signatures]
        return ptype, b64decode_canonical(payload), sigs
    except ValueError as exc:  # binascii.Error is a ValueError, as is non-ASCII text
        raise Rejected("malformed", f"bad base64: {exc}") from None


def _verify_all(
    ptype: str, payload: bytes, sigs: list[tuple[str, bytes]], keys: KeyDirectory, sender: str
) -> list[KeyRecord]:
    """Every signature must be a good one by a key of the sender: a list that is partly forged is forged."""
    records = []
    for key_id, signature in sigs:
        record = keys.record(key_id)
        if record is None:
            raise Rejected("unknown-key", f"key {key_id[:100]!r} is not in key directory v{keys.version}")
        if record.office_id != sender:
            raise Rejected("wrong-office-key", f"key {key_id} belongs to {record.office_id}, sender is {sender}")
        try:
            keys.verify_key(key_id).verify(pae(ptype, payload), signature)
        except (BadSignatureError, ValueError):  # PyNaCl raises ValueError for a signature of the wrong length
            raise Rejected("bad-signature", f"signature by {key_id} does not verify") from None
        records.append(record)
    return records


def _signed_content(kind: str, payload: bytes) -> tuple[Header, BaseModel | None, str | None, tuple[str, ...]]:
    """Parse the signed bytes once, strictly (no coercion): the header, the body or why it is invalid, what was ignored.

    Fields no model of this version knows, at any depth of header and body, are dropped first (within
    v1 a sender may add optional fields, `unknown_fields`); the rest is then validated strictly as JSON.
    A header that does not follow the schema makes the envelope `malformed`; a body that does not is
    `schema-invalid`, reported only after the header checks so that the header's reason comes first.
    """
    parsed = _strict(payload, "signed payload")
    if not isinstance(parsed, dict) or parsed.keys() != _SIGNED_KEYS:
        raise Rejected("malformed", "the signed payload has exactly header and body")
    try:
        payload, dropped = known_json(_SIGNED[kind], parsed, payload)
    except (ValueError, RecursionError) as exc:
        raise Rejected("malformed", f"signed payload is not JSON with one reading: {str(exc)[:200]}") from None
    ignored = recorded(dropped)
    try:
        content = _SIGNED[kind].model_validate_json(payload, strict=True)
        return content.header, content.body, None, ignored
    except ValidationError as exc:
        errors = exc.errors()
    header_errors = [e for e in errors if e["loc"][:1] != ("body",)]
    if header_errors:
        raise Rejected("malformed", f"signed header invalid: {_where(header_errors[0])}") from None
    header = Header.model_validate_json(json.dumps(prune(Header, parsed["header"])[0]), strict=True)  # error path only
    return header, None, f"{kind} body: {_where(errors[0], skip=1)}", ignored


def _where(error: Any, skip: int = 0) -> str:
    where = ".".join(str(p) for p in error["loc"][skip:])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def open_envelope(
    raw: bytes,
    *,
    subject_sender: str,
    recipient: str,
    keys: KeyDirectory,
    offices: Container[str],
    now: datetime,
    stored_at: datetime | None = None,
) -> Verified:
    """Check, in order, everything that needs no database; raise Rejected with the first failure.

    The payload is parsed only after every signature verified against a key that the directory
    says belongs to the sender named by the (server-enforced) subject. `offices` are the office
    ids of the directory: a signed recipient list naming anything else is a forgery or a bug.
    """
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise Rejected("oversized", f"{len(raw)} bytes > {MAX_ENVELOPE_BYTES}")
    ptype, payload, sigs = _outer(raw)
    kind = kind_of(ptype)
    if kind is None:
        major = other_major(ptype)
        if major is not None:
            raise Rejected("unsupported-version", f"payload type {ptype[:120]!r} is v{major}; this receiver speaks v1")
        raise Rejected("unsupported-type", f"payload type {ptype[:120]!r}")
    records = _verify_all(ptype, payload, sigs, keys, subject_sender)
    header, body, body_problem, ignored = _signed_content(kind, payload)
    mid = header.message_id
    if header.kind != kind or header.sender != subject_sender:
        raise Rejected("header-mismatch", f"header says {header.sender}/{header.kind}", message_id=mid)
    strangers = [r for r in header.recipients if r not in offices]
    if strangers:
        raise Rejected("header-mismatch", f"recipient {strangers[0][:40]!r} is not an office", message_id=mid)
    if recipient not in header.recipients:
        raise Rejected("not-a-recipient", f"{recipient} is not among the recipients", message_id=mid)
    for record in records:
        _check_key_times(record, header, stored_at)
    if header.created_at > now + MAX_CLOCK_SKEW:
        raise Rejected("from-the-future", f"created {header.created_at.isoformat()}", message_id=mid)
    if header.expires_at is not None and header.expires_at <= now:
        raise Rejected("expired", f"expired at {header.expires_at.isoformat()}", message_id=mid)
    if body is None:
        raise Rejected("schema-invalid", body_problem or "body invalid", message_id=mid)
    cosigners = check_signers(kind, header, body, keys, now=now)
    return Verified(
        header=header, body=body, key_id=sigs[0][0], digest=digest_of(raw), raw=raw, directory_version=keys.version,
        cosigners=cosigners, ignored_fields=ignored,
    )  # fmt: skip


def _check_key_times(record: KeyRecord, header: Header, stored_at: datetime | None) -> None:
    mid, key_id = header.message_id, record.key_id
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
