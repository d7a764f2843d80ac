"""The key directory: office -> public keys with validity, signed by the General Secretariat root key.

The verifier never trusts a key id by itself (DSSE: the key id is only a hint); it looks the
key up here and checks owner, validity window and revocation at the claimed signing time.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Literal

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from interpol_mesh.crypto.keys import Signer
from interpol_mesh.crypto.pae import pae
from interpol_mesh.strict_json import b64decode_canonical, loads_strict

KEY_DIRECTORY_TYPE = "application/vnd.interpol-mesh.key-directory.v1+json"

REASON_LIMIT = 80  # the directory carries the gist; the GS's own table keeps the full text

KeyProblem = Literal["revoked-key", "key-not-valid-at-signing-time"]


class KeyRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str
    office_id: str
    public_key: str  # base64 Ed25519
    valid_from: AwareDatetime
    valid_until: AwareDatetime | None = None
    revoked_from: AwareDatetime | None = None
    # Optional, and left out of the signed bytes when unset (`sign_directory`), so a directory
    # without them reads exactly as before.
    enrolled_by: str | None = Field(None, max_length=80, description="The key that signed this key's rotation")
    revocation_reason: str | None = Field(None, max_length=REASON_LIMIT, description="Why the key was revoked")

    def problem_at(self, signed_at: datetime) -> KeyProblem | None:
        if self.revoked_from is not None and signed_at >= self.revoked_from:
            return "revoked-key"
        if signed_at < self.valid_from or (self.valid_until is not None and signed_at >= self.valid_until):
            return "key-not-valid-at-signing-time"
        return None


class KeyDirectoryDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    issued_at: AwareDatetime
    keys: tuple[KeyRecord, ...]


class KeyDirectory:
    """Verified, in-memory view of the latest key directory document, with cached verify keys."""

    def __init__(self, document: KeyDirectoryDocument) -> None:
        self.document = document
        self._records = {k.key_id: k for k in document.keys}
        self._verify_keys = {k.key_id: VerifyKey(base64.b64decode(k.public_key)) for k in document.keys}

    @property
    def version(self) -> int:
        return self.document.version

    def record(self, key_id: str) -> KeyRecord | None:
        return self._records.get(key_id)

    def verify_key(self, key_id: str) -> VerifyKey:
        return self._verify_keys[key_id]


def sign_directory(document: KeyDirectoryDocument, root: Signer) -> bytes:
    """Seal the document as a DSSE envelope signed by the root (trust-anchor) key."""
    payload = document.model_dump_json(exclude_none=True).encode()
    sig = root.sign(pae(KEY_DIRECTORY_TYPE, payload))
    return json.dumps(
        {
            "payloadType": KEY_DIRECTORY_TYPE,
            "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": root.key_id, "sig": base64.b64encode(sig).decode()}],
        }
    ).encode()


class KeyDirectoryRejected(Exception):
    pass


def open_directory(signed: bytes, trust_anchor: VerifyKey) -> KeyDirectoryDocument:
    """Verify against the trust anchor before parsing; raise KeyDirectoryRejected otherwise."""
    try:
        outer = loads_strict(signed)
        if outer["payloadType"] != KEY_DIRECTORY_TYPE:
            raise KeyDirectoryRejected("not a key directory")
        payload = b64decode_canonical(outer["payload"])
        sigs = [b64decode_canonical(s["sig"]) for s in outer["signatures"]]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise KeyDirectoryRejected(f"malformed key directory: {exc}") from None
    message = pae(KEY_DIRECTORY_TYPE, payload)
    for sig in sigs:
        try:
            trust_anchor.verify(message, sig)
        except BadSignatureError:
            continue
        try:  # the same one reading as for messages: no duplicate keys, no coercion
            loads_strict(payload)
            return KeyDirectoryDocument.model_validate_json(payload, strict=True)
        except (ValueError, RecursionError) as exc:  # pydantic's ValidationError is a ValueError
            raise KeyDirectoryRejected(f"malformed key directory: {str(exc)[:300]}") from None
    raise KeyDirectoryRejected("key directory is not signed by the trust anchor")
