"""Short-lived bearer tokens signed with an office's Ed25519 key, verified against the key directory.

Why not mutual TLS: every office already has a signing key that the GS-signed key directory
vouches for, with rotation and revocation. A token signed by that key proves the same identity
without a second PKI, works through the Swagger console's Authorize button, and is revoked
together with the key.

Two kinds of principal use the one format:
- an office calling another office's API: `sub == iss`, roles `office:<kind>`, lifetime <= 5 min;
- a person working for an office (officer, reviewer, admin, operator): issued by that office for
  itself only (`iss == aud`), lifetime <= 12 h.

Format: `mesh1.<base64url(claims JSON)>.<base64url(Ed25519 signature)>`, the signature over
`interpol-mesh-token-v1.` + the claims part, so a token cannot be confused with an envelope.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from nacl.exceptions import BadSignatureError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from interpol_mesh.crypto import KeyDirectory, Signer
from interpol_mesh.observability.labels import RefusalCode
from interpol_mesh.strict_json import loads_strict

PREFIX = "mesh1"
DOMAIN = b"interpol-mesh-token-v1."
SERVICE_TTL = timedelta(minutes=5)
STAFF_TTL = timedelta(hours=12)
CLOCK_SKEW = timedelta(minutes=2)


LAST_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z, the last second a datetime can hold
Timestamp = Annotated[int, Field(ge=0, le=LAST_TIMESTAMP)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Claims(BaseModel):
    """What a token says, read strictly: a signed token is still only a claim by its issuer.

    An office's key signs whatever its software puts in a token, so a bug there (or a stolen
    key's holder) must meet one clear refusal, never a 500: no coercion (`"iat": true`), no
    missing or extra claim, times within what a datetime can hold.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    iss: Name
    kid: Name
    sub: Name
    aud: Name
    roles: list[Name] = Field(max_length=50)
    iat: Timestamp
    exp: Timestamp


class TokenRejected(Exception):
    """`reason` says what exactly (in the 401); `code` is its class, a closed set (`token_refusals_total`)."""

    def __init__(self, reason: str, code: RefusalCode) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code: RefusalCode = code


@dataclass(frozen=True)
class Principal:
    subject: str
    issuer: str
    roles: frozenset[str]
    key_id: str
    expires_at: datetime
    issued_at: datetime  # a role may refuse tokens issued before a cut-off (the CCC's revocation)

    @property
    def is_office(self) -> bool:
        return self.subject == self.issuer

    def has_any(self, roles: set[str] | frozenset[str]) -> bool:
        return bool(self.roles & roles)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(
    signer: Signer, *, subject: str, audience: str, roles: list[str], now: datetime, ttl: timedelta | None = None
) -> str:
    service = subject == signer.office_id
    limit = SERVICE_TTL if service else STAFF_TTL
    ttl = min(ttl or limit, limit)
    claims = {
        "iss": signer.office_id,
        "kid": signer.key_id,
        "sub": subject,
        "aud": audience,
        "roles": sorted(roles),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signature = signer.sign(DOMAIN + body.encode())
    return f"{PREFIX}.{body}.{_b64(signature)}"


def service_roles(kind: str) -> list[str]:
    return [f"office:{kind}"]


def verify_token(token: str, *, keys: KeyDirectory, audience: str, now: datetime) -> Principal:
    """Check signature first, then claims, owner, validity, audience and lifetime; raise TokenRejected."""
    try:
        prefix, body, sig = token.split(".")
        if prefix != PREFIX:
            raise ValueError
        claims_raw = _unb64(body)
        signature = _unb64(sig)
        parsed = loads_strict(claims_raw)  # a claim given twice could be read two ways: refused
        kid = parsed["kid"]
        if not isinstance(kid, str):
            raise ValueError
    except (ValueError, KeyError, TypeError, RecursionError):  # UnicodeDecodeError and binascii.Error are ValueErrors
        raise TokenRejected("malformed token", "malformed") from None
    record = keys.record(kid)
    if record is None:
        raise TokenRejected("unknown signing key", "unknown-key")
    try:
        keys.verify_key(record.key_id).verify(DOMAIN + body.encode(), signature)
    except (BadSignatureError, ValueError):
        raise TokenRejected("bad token signature", "bad-signature") from None
    try:
        claims = Claims.model_validate(parsed)
    except ValidationError:
        raise TokenRejected("malformed token", "malformed") from None
    issuer, subject = claims.iss, claims.sub
    if record.office_id != issuer:
        raise TokenRejected("token key does not belong to its issuer", "wrong-key")
    issued = datetime.fromtimestamp(claims.iat, tz=now.tzinfo)
    expires = datetime.fromtimestamp(claims.exp, tz=now.tzinfo)
    if record.problem_at(now) is not None:  # tokens live minutes: the key must be good now
        raise TokenRejected("token key revoked or not valid", "revoked-key")
    if claims.aud != audience:
        raise TokenRejected(f"token is for {claims.aud}, not {audience}", "wrong-audience")
    if issued > now + CLOCK_SKEW or expires <= now:
        raise TokenRejected("token expired or not yet valid", "expired")
    service = subject == issuer
    if expires - issued > (SERVICE_TTL if service else STAFF_TTL) + CLOCK_SKEW:
        raise TokenRejected("token lifetime too long", "bad-lifetime")
    if not service and issuer != audience:
        raise TokenRejected("staff tokens are valid only at the office that issued them", "wrong-audience")
    roles = frozenset(claims.roles)
    if service and roles != frozenset({f"office:{_kind(issuer)}"}):
        raise TokenRejected("an office token carries exactly its office role", "bad-roles")
    return Principal(
        subject=subject, issuer=issuer, roles=roles, key_id=record.key_id, expires_at=expires, issued_at=issued
    )


def _kind(office_id: str) -> str:
    return office_id.split(".", 1)[0] if "." in office_id else office_id
