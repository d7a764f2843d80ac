"""Who must have signed a message, per kind: the signer policy, checked after the body is valid.

Most kinds are one decision by one office: the sender's signature (checked before the payload is
parsed) is all there is. A published notice is two: the requesting office asked for it and the
General Secretariat published it. The GS signs the notice event; inside it travels the requesting
office's own signed request, which every recipient verifies against that office's key. A notice
missing either signature, or carrying a genuine request that is not this notice's, is refused.

Refusal reasons: `missing-signer` (a required signer did not sign), `bad-cosignature` (the inner
signature does not verify as the requester's), `cosignature-mismatch` (the inner request is genuine
but another one).

The policy is a table (`POLICIES`): a later kind that needs another office's signature declares
its required sender and co-signature there; the checks themselves are shared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nacl.exceptions import BadSignatureError
from pydantic import BaseModel, ValidationError

from interpol_mesh.crypto import KeyDirectory, pae
from interpol_mesh.directory import GS_ID
from interpol_mesh.envelope.header import MAX_CLOCK_SKEW, Header, SignedOf
from interpol_mesh.envelope.rejection import Rejected
from interpol_mesh.envelope.unknown_fields import known_json
from interpol_mesh.messages import NoticeEvent, NoticeRequest, SignedRequest, payload_type
from interpol_mesh.strict_json import b64decode_canonical, loads_strict


@dataclass(frozen=True)
class CoSigner:
    """A signature inside the message, beside the sender's: who, with which key, over which message."""

    office_id: str
    key_id: str
    message_id: str  # the co-signed message (for a notice: the request, whose id is the notice id)
    role: str  # "requester"


@dataclass(frozen=True)
class CoSignature:
    """An inner envelope the kind carries: which kind it is, whose it must be, and what it must say.

    `carried` finds it in the body (None: absent); `required` says whether this body needs it;
    `signer` is the office whose key must have signed it; `mismatch` compares the verified inner
    message (header, body) with the outer header and body and says how they differ (None: they agree).
    """

    role: str
    inner_kind: str
    carried: Callable[[BaseModel], SignedRequest | None]
    required: Callable[[BaseModel], bool]
    signer: Callable[[BaseModel], str]
    mismatch: Callable[[BaseModel, Header, Header, BaseModel], str | None]


@dataclass(frozen=True)
class SignerPolicy:
    """What a kind needs beyond a good signature by its sender."""

    sender: str | None = None  # only this office may send the kind
    sender_why: str = ""
    cosigned: CoSignature | None = None


def _event(body: BaseModel) -> NoticeEvent:
    assert isinstance(body, NoticeEvent)
    return body


def _notice_mismatch(body: BaseModel, header: Header, inner_header: Header, inner_body: BaseModel) -> str | None:
    """The request must be this notice's, and say what the notice says (as the GS attributed it).

    The event's own summary fields (type, requester) are what inboxes index and filter on, so they
    are held to the signed request too; and the request must have been a request: addressed to
    the GS and signed before the publication (an inner signing time is the signer's claim: without
    the bound, a key revoked later could sign a "request" dated before its revocation at any time).
    """
    event = _event(body)
    assert isinstance(inner_body, NoticeRequest)
    if inner_header.message_id != event.notice_id:
        return f"the signed request is {inner_header.message_id}, the notice is {event.notice_id}"
    if not event.requesting_office == event.notice.requesting_office == inner_header.sender:
        return (
            f"requesting office {event.requesting_office} / notice's {event.notice.requesting_office}"
            f" / request signed by {inner_header.sender} differ"
        )
    if event.notice_type != event.notice.notice_type:
        return f"the event says a {event.notice_type} notice, the notice is {event.notice.notice_type}"
    if GS_ID not in inner_header.recipients:
        return "the signed request was not addressed to the General Secretariat"
    if inner_header.created_at > header.created_at + MAX_CLOCK_SKEW:
        return (
            f"the request is signed at {inner_header.created_at.isoformat()}, after its publication at"
            f" {header.created_at.isoformat()}"
        )
    # The GS records the signed sender as the requester (intake attribution); the rest is as signed.
    attributed = inner_body.model_copy(update={"requesting_office": inner_header.sender})
    if attributed.model_dump(mode="json") != event.notice.model_dump(mode="json"):
        return "the published notice differs from the signed request"
    return None


POLICIES: dict[str, SignerPolicy] = {
    "notice-event": SignerPolicy(
        sender=GS_ID,
        sender_why="a notice event is the General Secretariat's decision",
        cosigned=CoSignature(
            role="requester",
            inner_kind="notice-request",
            carried=lambda body: _event(body).request,
            required=lambda body: _event(body).event in ("published", "updated"),
            signer=lambda body: _event(body).requesting_office,
            mismatch=_notice_mismatch,
        ),
    ),
}


def check_signers(
    kind: str, header: Header, body: BaseModel, keys: KeyDirectory, *, now: datetime
) -> tuple[CoSigner, ...]:
    """Raise Rejected unless every signer the kind's policy requires signed; return the co-signers.

    Called by `open_envelope` after the body validated, so a policy failure never hides a schema one.
    `now` is unused by the v1 policies: an inner key is judged at the inner signing time.
    """
    policy = POLICIES.get(kind)
    if policy is None:
        return ()
    mid = header.message_id
    if policy.sender is not None and header.sender != policy.sender:
        raise Rejected("missing-signer", f"sent by {header.sender}: {policy.sender_why}", message_id=mid)
    co = policy.cosigned
    if co is None:
        return ()
    inner = co.carried(body)
    if inner is None:
        if co.required(body):
            raise Rejected("missing-signer", f"no signed {co.inner_kind} by the {co.role} inside", message_id=mid)
        return ()
    signer = co.signer(body)
    inner_header, inner_body, key_ids = _open_inner(inner, co.inner_kind, signer, keys, mid)
    problem = co.mismatch(body, header, inner_header, inner_body)
    if problem is not None:
        raise Rejected("cosignature-mismatch", problem, message_id=mid)
    return tuple(CoSigner(signer, key_id, inner_header.message_id, co.role) for key_id in key_ids)


def _bad(detail: str, mid: str) -> Rejected:
    return Rejected("bad-cosignature", detail, message_id=mid)


def _open_inner(
    inner: SignedRequest, inner_kind: str, signer: str, keys: KeyDirectory, mid: str
) -> tuple[Header, BaseModel, list[str]]:
    """Verify the inner envelope as `signer`'s message of `inner_kind`, in the order of the README."""
    if inner.payloadType != payload_type(inner_kind):
        raise _bad(f"inner payload type {inner.payloadType[:120]!r} is not {inner_kind} v1", mid)
    try:
        payload = b64decode_canonical(inner.payload)
        sigs = [(s.keyid, b64decode_canonical(s.sig)) for s in inner.signatures]
    except ValueError:
        raise _bad("inner payload or signature is not standard base64", mid) from None
    if len({key_id for key_id, _ in sigs}) != len(sigs):
        raise _bad("a key id appears twice among the inner signatures", mid)
    records = []
    for key_id, signature in sigs:
        record = keys.record(key_id)
        if record is None:
            raise _bad(f"inner key {key_id[:100]!r} is not in key directory v{keys.version}", mid)
        if record.office_id != signer:
            raise _bad(f"inner key {key_id} belongs to {record.office_id}, the {inner_kind} is {signer}'s", mid)
        try:
            keys.verify_key(key_id).verify(pae(inner.payloadType, payload), signature)
        except (BadSignatureError, ValueError):
            raise _bad(f"inner signature by {key_id} does not verify", mid) from None
        records.append(record)
    inner_header, inner_body = _parse_inner(inner_kind, payload, mid)
    if inner_header.kind != inner_kind:
        raise _bad(f"inner header kind is {inner_header.kind}, not {inner_kind}", mid)
    if inner_header.sender != signer:
        raise _bad(f"inner header sender is {inner_header.sender}, not {signer}", mid)
    for record in records:
        key_problem = record.problem_at(inner_header.created_at)
        if key_problem is not None:
            raise _bad(f"inner key {record.key_id}: {key_problem} at {inner_header.created_at.isoformat()}", mid)
    return inner_header, inner_body, [r.key_id for r in records]


_INNER_MODELS: dict[str, type[SignedOf[Any]]] = {"notice-request": SignedOf[NoticeRequest]}


def _parse_inner(inner_kind: str, payload: bytes, mid: str) -> tuple[Header, BaseModel]:
    """One strict reading of the inner signed bytes as {header, body} of `inner_kind`."""
    try:
        parsed = loads_strict(payload)
    except (ValueError, RecursionError) as exc:
        raise _bad(f"inner payload is not JSON with one reading: {str(exc)[:200]}", mid) from None
    if not isinstance(parsed, dict) or parsed.keys() != {"header", "body"}:
        raise _bad("the inner signed payload has exactly header and body", mid)
    # The inner request is a v1 message like any other: fields this receiver does not know are
    # ignored (README, "Versioning"), or a request sent by a newer NCB could never be published.
    try:
        payload, _ = known_json(_INNER_MODELS[inner_kind], parsed, payload)
    except (ValueError, RecursionError) as exc:
        raise _bad(f"inner payload is not JSON with one reading: {str(exc)[:200]}", mid) from None
    try:
        content = _INNER_MODELS[inner_kind].model_validate_json(payload, strict=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise _bad(f"inner {inner_kind} invalid: {where}: {error['msg']}"[:300], mid) from None
    return content.header, content.body


def signed_request_of(raw: bytes) -> SignedRequest:
    """The exact DSSE envelope an office sent (raw inbox bytes), as a notice event carries it."""
    return SignedRequest.model_validate(loads_strict(raw))
