"""Conformance vectors: every verification decision the mesh makes, as files any language can replay.

Generated from the code by `make gen` into `proto-schemas/v1/vectors/` (format in its README) and
checked for drift in CI; `tests/test_vectors.py` replays them through the Python receiver and
`interop/node` through an independent verifier that reads only `proto-schemas/`.

Every vector's bytes are built by the real sender code (`seal`, `sign_directory`) and then damaged
the way an attacker or a broken peer would: a byte changed after signing, a field added and signed
again, a key that is not the sender's. Keys, ids and clocks are fixed, so the files never change
unless the code's decisions do.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from interpol_mesh.bus import subjects
from interpol_mesh.crypto import FileSigner, KeyDirectoryDocument, KeyRecord, pae, sign_directory
from interpol_mesh.envelope import MAX_CLOCK_SKEW, MAX_ENVELOPE_BYTES, Header, seal
from interpol_mesh.envelope.rejection import RejectReason
from interpol_mesh.messages import BODY_MODELS, payload_type

Files = dict[str, bytes]
Json = dict[str, Any]

VECTORS = "proto-schemas/v1/vectors"
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # signing time of most vectors
NOW = T0 + timedelta(hours=2)  # the receiver's clock, unless a vector says otherwise
KEYS_FROM = datetime(2026, 1, 1, tzinfo=UTC)
OFFICES = ("gs", "ncb.de", "ncb.es", "ncb.fr")
GENERATED = "Generated from the code by `make gen` (services/cli/vectors.py); do not edit by hand."
VEHICLE_TEXT = "Please confirm the registration of vehicle WDB123."


class _Loose(BaseModel):
    """Any body at all: lets real `seal` sign a body the schema forbids, as a broken peer would."""

    model_config = ConfigDict(extra="allow")


# -- Keys -----------------------------------------------------------------------------------------


def _signer(name: str, office_id: str, key_id: str | None = None) -> FileSigner:
    from interpol_offices.cli.generate import example_signer  # generate imports this module

    return example_signer(name, office_id, key_id)


def office_signer(office: str) -> FileSigner:
    """The current key of each office: the same public test keys as proto-schemas/v1/examples/."""
    return _signer(office, office)


def root_signer() -> FileSigner:
    return _signer("gs-root", "gs")


REVOKED_FROM = T0 - timedelta(days=1)
EXPIRED_UNTIL = T0 - timedelta(days=1)
FUTURE_FROM = T0 + timedelta(days=5)
SHORT_UNTIL = T0 + timedelta(minutes=10)
LATE_REVOKED_FROM = T0 + timedelta(minutes=30)


def _extra_keys() -> dict[str, tuple[FileSigner, Json]]:
    """Keys of ncb.de whose validity makes the key-time checks bite; name -> (signer, record fields)."""
    table: dict[str, Json] = {
        "revoked": {"revoked_from": REVOKED_FROM, "revocation_reason": "compromised (test vector)"},
        "expired": {"valid_until": EXPIRED_UNTIL},
        "future": {"valid_from": FUTURE_FROM},
        "short": {"valid_until": SHORT_UNTIL},
        "late-revoked": {"revoked_from": LATE_REVOKED_FROM},
    }
    out = {name: (_signer(f"ncb.de {name}", "ncb.de", f"ncb.de/vector-{name}"), f) for name, f in table.items()}
    # ncb.fr keys that were no longer good when it signed its notice request (a day before T0)
    late: dict[str, Json] = {"fr-revoked": {"revoked_from": T0 - timedelta(days=2)},
            "fr-expired": {"valid_until": T0 - timedelta(days=2)}}  # fmt: skip
    for name, fields in late.items():
        out[name] = (_signer(f"ncb.fr {name[3:]}", "ncb.fr", f"ncb.fr/vector-{name[3:]}"), fields)
    return out


def key_signer(name: str) -> FileSigner:
    return _extra_keys()[name][0]


def directory() -> KeyDirectoryDocument:
    records = [
        KeyRecord(key_id=s.key_id, office_id=s.office_id, public_key=s.public_key_b64(), valid_from=KEYS_FROM)
        for s in map(office_signer, OFFICES)
    ]
    for signer, fields in _extra_keys().values():
        base = {"key_id": signer.key_id, "office_id": signer.office_id, "public_key": signer.public_key_b64()}
        records.append(KeyRecord.model_validate({"valid_from": KEYS_FROM, **base, **fields}))
    return KeyDirectoryDocument(version=1, issued_at=KEYS_FROM, keys=tuple(records))


# -- Building blocks ------------------------------------------------------------------------------


def message_id(name: str) -> str:
    """A UUIDv7 at T0 whose random bits are a hash of the vector's name: fixed, and distinct per vector."""
    ms = int(T0.timestamp() * 1000)
    n = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8]) & ((1 << 62) - 1)
    return str(uuid.UUID(int=ms << 80 | 0x7 << 76 | 0b10 << 62 | n))


def _header(name: str, kind: str, sender: str, recipients: tuple[str, ...], **extra: Any) -> Header:
    fields: Json = {"message_id": message_id(name), "kind": kind, "sender": sender, "recipients": recipients,
                    "created_at": T0, "language": "en"}  # fmt: skip
    return Header.model_validate(fields | extra)


def _body(kind: str, fields: Json) -> BaseModel:
    return BODY_MODELS[kind].model_validate(fields)


def sealed(name: str, kind: str, sender: str, recipients: tuple[str, ...], body: Json,
           signer: FileSigner | None = None, **extra: Any) -> bytes:  # fmt: skip
    """Real sender code: `seal` of a valid header and body (a loose body only when the test is the body)."""
    model = _body(kind, body) if kind in BODY_MODELS else _Loose.model_validate(body)
    return seal(_header(name, kind, sender, recipients, **extra), model, signer or office_signer(sender)).data


def _outer(data: bytes) -> Json:
    outer: Json = json.loads(data)
    return outer


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _payload(data: bytes) -> bytes:
    return base64.b64decode(_outer(data)["payload"])


def signature(ptype: str, payload: bytes, signer: FileSigner) -> Json:
    return {"keyid": signer.key_id, "sig": base64.b64encode(signer.sign(pae(ptype, payload))).decode()}


def dsse(ptype: str, payload: bytes, signatures: list[Json]) -> bytes:
    return _compact({"payloadType": ptype, "payload": base64.b64encode(payload).decode(), "signatures": signatures})


def resigned(data: bytes, change: Callable[[Json], None], signer: FileSigner, ptype: str | None = None) -> bytes:
    """Decode the signed content, change it, and sign the new bytes properly: the content is the test."""
    outer = _outer(data)
    content: Json = json.loads(base64.b64decode(outer["payload"]))
    change(content)
    kind_type = ptype or outer["payloadType"]
    payload = _compact(content)
    return dsse(kind_type, payload, [signature(kind_type, payload, signer)])


def resigned_raw(data: bytes, payload: bytes, signer: FileSigner, ptype: str | None = None) -> bytes:
    kind_type = ptype or _outer(data)["payloadType"]
    return dsse(kind_type, payload, [signature(kind_type, payload, signer)])


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- The vectors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vector:
    name: str  # accept/<name> or refuse/<reason>[--<variant>]
    description: str
    receiver: str
    subject: str
    message: bytes
    expected: Json
    now: datetime = NOW
    stored_at: datetime | None = T0 + timedelta(seconds=1)
    state: Json = field(default_factory=dict)

    def document(self) -> Json:
        state = {"accepted_message_ids": [], "sent": [], "processing_fails": False} | self.state
        return {
            "name": self.name,
            "description": self.description,
            "receiver": self.receiver,
            "subject": self.subject,
            "now": self.now.isoformat(),
            "stored_at": self.stored_at.isoformat() if self.stored_at else None,
            "state": state,
            "message": base64.b64encode(self.message).decode(),
            "expected": self.expected,
        }


def refuse(reason: RejectReason) -> Json:
    return {"outcome": "refuse", "reason": reason}


def accept(data: bytes, **more: Any) -> Json:
    content = json.loads(_payload(data))
    header = content["header"]
    return {"outcome": "accept", "reason": None, "kind": header["kind"], "message_id": header["message_id"], **more}


def direct(sender: str, recipient: str) -> str:
    return subjects.direct(sender, recipient)


# A plain message ncb.de -> ncb.fr: the base most refusals damage.
def plain(name: str, **extra: Any) -> bytes:
    body = {"title": "Vehicle check", "text": VEHICLE_TEXT}
    return sealed(name, "message", "ncb.de", ("ncb.fr",), body, **extra)


DE_FR = subjects.direct("ncb.de", "ncb.fr")


def _plain_refusal(reason: RejectReason, variant: str | None, description: str, build: Callable[[str], bytes],
                   **kw: Any) -> Vector:  # fmt: skip
    name = f"refuse/{reason}" + (f"--{variant}" if variant else "")
    return Vector(name, description, "ncb.fr", kw.pop("subject", DE_FR), build(name), refuse(reason), **kw)


def _accept_vectors() -> list[Vector]:
    from interpol_offices.cli.generate import example_envelopes

    out = []
    examples = example_envelopes()
    for kind, (header, sealed_example) in examples.items():
        if kind == "notice-event":
            continue  # the example carries no co-signed request; the co-signed one is built below
        receiver = header.recipients[0]
        state: Json = {}
        if kind == "receipt":
            hit_header, hit = examples["hit-report"]
            state = {"sent": [_sent(hit_header, hit.data)]}
        out.append(Vector(
            f"accept/{kind}", f"The signed example {kind} from {header.sender}, as published on NATS.", receiver,
            subjects.for_envelope(kind, header.sender, receiver), sealed_example.data, accept(sealed_example.data),
            now=header.created_at + timedelta(hours=1), stored_at=header.created_at + timedelta(seconds=1), state=state,
        ))  # fmt: skip
    out += _cosigned_accepts()
    out += _unknown_field_accepts()
    return out


def _sent(header: Header, data: bytes) -> Json:
    return {"message_id": header.message_id, "recipients": list(header.recipients), "digest": digest(data),
            "created_at": header.created_at.isoformat()}  # fmt: skip


# -- Co-signed notices ----------------------------------------------------------------------------

REQUEST_NAME = "cosign/request"


def _notice_content(title: str | None = None) -> Json:
    from interpol_offices.cli.generate import NOTICE

    return NOTICE | ({"title": title} if title else {})


def notice_request(name: str = REQUEST_NAME, title: str | None = None, signer: FileSigner | None = None,
                   sender: str = "ncb.fr", ptype: str | None = None) -> bytes:  # fmt: skip
    """The requesting office's own envelope of its notice request, exactly as the GS received it."""
    data = sealed(name, "notice-request", sender, ("gs",), _notice_content(title) | {"requesting_office": sender},
                  signer=signer or office_signer(sender), created_at=T0 - timedelta(days=1), language="fr-FR")  # fmt: skip
    if ptype is not None:
        return resigned(data, lambda _: None, signer or office_signer(sender), ptype)
    return data


def as_signed_request(data: bytes) -> Json:
    outer = _outer(data)
    return {"payloadType": outer["payloadType"], "payload": outer["payload"], "signatures": outer["signatures"]}


def notice_event(name: str, request: bytes | None, *, event: str = "published", notice_id: str | None = None,
                 notice: Json | None = None, requesting_office: str = "ncb.fr", sender: str = "gs",
                 recipients: tuple[str, ...] = ("ncb.fr", "ncb.es")) -> bytes:  # fmt: skip
    body: Json = {
        "event": event, "notice_id": notice_id or message_id(REQUEST_NAME), "notice_type": "red",
        "requesting_office": requesting_office, "notice": notice or _notice_content(),
        "published_at": (T0 - timedelta(minutes=5)).isoformat(), "expires_at": "2031-01-05T00:00:00+00:00",
    }  # fmt: skip
    if request is not None:
        body["request"] = as_signed_request(request)
    if event == "cancelled":
        body["reason"] = "Person located and extradited (test vector)."
    return sealed(name, "notice-event", sender, recipients, body, correlation_id=body["notice_id"])


NOTICE_FR = subjects.notice("ncb.fr")


def _cosigners() -> list[Json]:
    return [{"office_id": "ncb.fr", "key_id": office_signer("ncb.fr").key_id}]


def _cosigned_accepts() -> list[Vector]:
    published = notice_event("accept/notice-event", notice_request())
    cancelled = notice_event("accept/notice-event--cancelled-without-request", None, event="cancelled")
    return [
        Vector("accept/notice-event", "A published Red Notice: the GS's envelope carrying ncb.fr's own signed "
               "request (two signers).", "ncb.fr", NOTICE_FR, published, accept(published, cosigners=_cosigners())),
        Vector("accept/notice-event--cancelled-without-request", "A cancellation the GS decides alone: no "
               "co-signed request is required.", "ncb.fr", NOTICE_FR, cancelled, accept(cancelled, cosigners=[])),
    ]  # fmt: skip


def _cosign_refusals() -> list[Vector]:
    req = notice_request()

    def event(name: str, request: bytes | None, **kw: Any) -> bytes:
        return notice_event(name, request, **kw)

    def altered_request() -> bytes:
        outer = _outer(req)
        payload = base64.b64decode(outer["payload"]).replace(b"EXEMPLE", b"EXEMPLO", 1)
        return _compact(outer | {"payload": base64.b64encode(payload).decode()})

    other_office = resigned(req, lambda _: None, office_signer("ncb.de"))
    unknown = resigned(req, lambda _: None, _signer("ncb.fr unlisted", "ncb.fr", "ncb.fr/not-in-directory"))
    wrong_type = resigned(req, lambda _: None, office_signer("ncb.fr"), payload_type("message"))

    def bad_body(content: Json) -> None:
        del content["body"]["purpose"]

    not_request = resigned(req, bad_body, office_signer("ncb.fr"))
    expired_key = resigned(req, lambda _: None, key_signer("fr-expired"))
    revoked_key = resigned(req, lambda _: None, key_signer("fr-revoked"))
    other = notice_request("cosign/other-request", title="EXEMPLE — une autre demande")
    gs_only_de = sealed("refuse/missing-signer--not-gs", "notice-event", "ncb.de", ("ncb.fr",), {
        "event": "published", "notice_id": message_id(REQUEST_NAME), "notice_type": "red",
        "requesting_office": "ncb.fr", "notice": _notice_content(), "published_at": T0.isoformat(),
        "request": as_signed_request(req)})  # fmt: skip
    changed = _notice_content("EXEMPLE — titre modifié par le secrétariat")
    specs: list[tuple[RejectReason, str, str, str, bytes]] = [
        ("missing-signer", "published-without-request", NOTICE_FR,
         "A published notice signed by the GS alone: the requesting office's signed request is missing.",
         event("refuse/missing-signer--published-without-request", None)),
        ("missing-signer", "updated-without-request", NOTICE_FR,
         "An updated notice signed by the GS alone: an update needs the requesting office's signed request too.",
         event("refuse/missing-signer--updated-without-request", None, event="updated")),
        ("missing-signer", "not-gs", DE_FR,
         "A notice event signed and sent by ncb.de, not the General Secretariat, even with a genuine request inside.",
         gs_only_de),
        ("bad-cosignature", "inner-payload-altered", NOTICE_FR,
         "The carried request's payload was changed after ncb.fr signed it: its signature no longer verifies.",
         event("refuse/bad-cosignature--inner-payload-altered", altered_request())),
        ("bad-cosignature", "inner-key-of-another-office", NOTICE_FR,
         "The carried request is signed by a key of ncb.de, not of the requesting office ncb.fr.",
         event("refuse/bad-cosignature--inner-key-of-another-office", other_office)),
        ("bad-cosignature", "inner-unknown-key", NOTICE_FR,
         "The carried request is signed by a key id that is not in the key directory.",
         event("refuse/bad-cosignature--inner-unknown-key", unknown)),
        ("bad-cosignature", "inner-not-notice-request", NOTICE_FR,
         "The carried envelope is a genuine ncb.fr signature over a `message` payload type, not a notice request.",
         event("refuse/bad-cosignature--inner-not-notice-request", wrong_type)),
        ("bad-cosignature", "inner-body-invalid", NOTICE_FR,
         "The carried request is signed by ncb.fr but its body is not a valid notice request (no purpose).",
         event("refuse/bad-cosignature--inner-body-invalid", not_request)),
        ("bad-cosignature", "inner-key-expired", NOTICE_FR,
         "The carried request is signed by an ncb.fr key whose validity ended before the request's created_at.",
         event("refuse/bad-cosignature--inner-key-expired", expired_key)),
        ("bad-cosignature", "inner-key-revoked", NOTICE_FR,
         "The carried request is signed by an ncb.fr key revoked before the request's created_at.",
         event("refuse/bad-cosignature--inner-key-revoked", revoked_key)),
        ("cosignature-mismatch", "other-request", NOTICE_FR,
         "A genuine ncb.fr request, but another one (another message id and title) than the notice published.",
         event("refuse/cosignature-mismatch--other-request", other)),
        ("cosignature-mismatch", "content-differs", NOTICE_FR,
         "The genuine request of this notice id, but the published notice's title differs from what ncb.fr signed.",
         event("refuse/cosignature-mismatch--content-differs", req, notice=changed)),
        ("cosignature-mismatch", "requesting-office", NOTICE_FR,
         "The genuine request of ncb.fr, but the published notice names ncb.de as its requesting office.",
         event("refuse/cosignature-mismatch--requesting-office", req,
               notice=_notice_content() | {"requesting_office": "ncb.de"})),
    ]  # fmt: skip
    return [Vector(f"refuse/{reason}--{variant}", text, "ncb.fr", subject, data, refuse(reason))
            for reason, variant, subject, text, data in specs]  # fmt: skip


# -- Unknown optional fields within v1 -----------------------------------------------------------


def _unknown_field_accepts() -> list[Vector]:
    def in_body(content: Json) -> None:
        content["body"]["x_new_field"] = "added by a newer v1 sender"

    def in_header(content: Json) -> None:
        content["header"]["x_trace_id"] = "4bf92f3577b34da6a3ce929d0e0e4736"

    def nested(content: Json) -> None:
        content["body"]["person"]["x_middle_name"] = "Fictif"
        content["body"]["offence"]["x_severity"] = {"scale": "national", "level": 3}

    diffusion = {"diffusion_type": "wanted-person", "title": "Wanted (test vector)", "text": VEHICLE_TEXT,
                 "person": {"family_name": "EXAMPLE", "sex": "male"},
                 "offence": {"description": "Robbery (test vector)", "category": "robbery"}}  # fmt: skip
    out = []
    for variant, change, kind, ignored, text in [
        ("unknown-body-field", in_body, "message", ["body.x_new_field"],
         "A message whose body has a field this v1 receiver does not know: accepted, the field ignored."),
        ("unknown-header-field", in_header, "message", ["header.x_trace_id"],
         "A message whose signed header has a field this v1 receiver does not know: accepted, the field ignored."),
        ("unknown-nested-fields", nested, "diffusion", ["body.offence.x_severity", "body.person.x_middle_name"],
         "A diffusion with unknown fields inside nested objects (person, offence): accepted, both ignored."),
    ]:  # fmt: skip
        name = f"accept/{kind}--{variant}"
        body = {"title": "Vehicle check", "text": VEHICLE_TEXT} if kind == "message" else diffusion
        data = resigned(sealed(name, kind, "ncb.de", ("ncb.fr",), body), change, office_signer("ncb.de"))
        out.append(Vector(name, text, "ncb.fr", DE_FR, data, accept(data, ignored_fields=sorted(ignored))))
    return out


# -- Stateless refusals ---------------------------------------------------------------------------


def _with_base64_alphabet(name: str) -> bytes:
    """A message whose standard base64 payload contains `+` or `/`, so that the URL-safe form differs."""
    for n in range(1000):
        data = sealed(
            name, "message", "ncb.de", ("ncb.fr",), {"title": "Vehicle check", "text": VEHICLE_TEXT + "?" * n}
        )
        payload = _outer(data)["payload"]
        if "+" in payload or "/" in payload:
            return data
    raise AssertionError("no payload with + or / found")


def _url_safe(name: str) -> bytes:
    outer = _outer(_with_base64_alphabet(name))
    outer["payload"] = outer["payload"].replace("+", "-").replace("/", "_")
    return _compact(outer)


def _text_edit(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, old
    return data.replace(old, new)


def _duplicate_outer(name: str) -> bytes:
    data = plain(name)
    ptype = b'"payloadType":"' + payload_type("message").encode() + b'"'
    return _text_edit(data, ptype, ptype + b',"payloadType":"' + payload_type("diffusion").encode() + b'"')


def _duplicate_signed(name: str) -> bytes:
    """The sender named twice inside the signed bytes: two readers could see two senders."""
    data = plain(name)
    payload = _text_edit(_payload(data), b'"sender":"ncb.de"', b'"sender":"ncb.de","sender":"ncb.fr"')
    return resigned_raw(data, payload, office_signer("ncb.de"))


def _extra_outer(name: str) -> bytes:
    return _compact(_outer(plain(name)) | {"x_unsigned_note": "not covered by the signature"})


def _extra_signature_field(name: str) -> bytes:
    outer = _outer(plain(name))
    outer["signatures"][0]["public_key"] = office_signer("ncb.de").public_key_b64()
    return _compact(outer)


def _key_id_twice(name: str) -> bytes:
    outer = _outer(plain(name))
    outer["signatures"] = [outer["signatures"][0], outer["signatures"][0]]
    return _compact(outer)


def _no_signatures(name: str) -> bytes:
    return _compact(_outer(plain(name)) | {"signatures": []})


def _not_json(name: str) -> bytes:
    return plain(name)[:-7]


def _nan(name: str) -> bytes:
    data = plain(name)
    return resigned_raw(
        data, _text_edit(_payload(data), b'"language":"en"', b'"language":NaN'), office_signer("ncb.de")
    )


def _header_change(change: Callable[[Json], None]) -> Callable[[str], bytes]:
    def build(name: str) -> bytes:
        return resigned(plain(name), lambda c: change(c["header"]), office_signer("ncb.de"))

    return build


def _set(key: str, value: Any) -> Callable[[Json], None]:
    def change(target: Json) -> None:
        target[key] = value

    return change


def _tamper(name: str) -> bytes:
    data = plain(name)
    outer = _outer(data)
    payload = _text_edit(_payload(data), b"WDB123", b"WDB999")
    return _compact(outer | {"payload": base64.b64encode(payload).decode()})


def _short_signature(name: str) -> bytes:
    outer = _outer(plain(name))
    outer["signatures"][0]["sig"] = base64.b64encode(b"short").decode()
    return _compact(outer)


def _type_swapped(name: str) -> bytes:
    """The payload type changed after signing: PAE binds it, so the signature no longer verifies."""
    outer = _outer(plain(name))
    return _compact(outer | {"payloadType": payload_type("diffusion")})


def _second_signature_bad(name: str) -> bytes:
    """Two signatures by two keys of ncb.de; the second signs other bytes. One bad entry refuses the whole."""
    data = plain(name)
    outer = _outer(data)
    extra = signature(outer["payloadType"], b"other bytes", key_signer("late-revoked"))
    return _compact(outer | {"signatures": [*outer["signatures"], extra]})


def _kind_mismatch(name: str) -> bytes:
    """Signed as a diffusion (payload type) while the signed header says message."""
    return resigned(plain(name), lambda _: None, office_signer("ncb.de"), payload_type("diffusion"))


def _oversized_loose(name: str) -> bytes:
    # The models cap a text at 20000 characters: the oversized message is signed as a loose body.
    text, data = "", b""
    while len(data) <= MAX_ENVELOPE_BYTES:
        text += "x" * max(1, (MAX_ENVELOPE_BYTES + 1 - len(data)) * 3 // 4)
        header = _header(name, "message", "ncb.de", ("ncb.fr",))
        data = seal(header, _Loose.model_validate({"title": "Oversized", "text": text}), office_signer("ncb.de")).data
    return data


def _other_type(ptype: str) -> Callable[[str], bytes]:
    def build(name: str) -> bytes:
        return resigned(plain(name), lambda _: None, office_signer("ncb.de"), ptype)

    return build


def _body_change(change: Callable[[Json], None]) -> Callable[[str], bytes]:
    def build(name: str) -> bytes:
        return resigned(plain(name), lambda c: change(c["body"]), office_signer("ncb.de"))

    return build


def _drop(key: str) -> Callable[[Json], None]:
    def change(target: Json) -> None:
        del target[key]

    return change


def _stateless_refusals() -> list[Vector]:
    de = office_signer("ncb.de")
    later = T0 + timedelta(hours=1)
    R = _plain_refusal
    return [
        R("oversized", None, f"A validly signed message of {MAX_ENVELOPE_BYTES + 1} bytes or more.", _oversized_loose),
        R("malformed", "not-json", "The envelope is cut short: not JSON.", _not_json),
        R("malformed", "duplicate-key-outer", "The envelope has payloadType twice (message, then diffusion).",
          _duplicate_outer),
        R("malformed", "duplicate-key-signed", "The signed payload names the sender twice (ncb.de, then ncb.fr); "
          "the signature is good.", _duplicate_signed),
        R("malformed", "nan", "The signed payload contains NaN; the signature is good.", _nan),
        R("malformed", "extra-outer-field", "The envelope has a fourth, unsigned field beside payloadType, payload "
          "and signatures.", _extra_outer),
        R("malformed", "extra-signature-field", "A signature entry has a field beside keyid and sig.",
          _extra_signature_field),
        R("malformed", "url-safe-base64", "The payload is in the URL-safe base64 alphabet (- and _), not the "
          "standard one.", _url_safe),
        R("malformed", "key-id-twice", "The same signature (same key id) is listed twice.", _key_id_twice),
        R("malformed", "no-signatures", "The signatures list is empty.", _no_signatures),
        R("malformed", "header-time-as-number", "The signed header's created_at is a number, not RFC 3339 text.",
          _header_change(_set("created_at", 1767614400))),
        R("malformed", "header-duplicate-recipients", "The signed header lists the recipient ncb.fr twice.",
          _header_change(_set("recipients", ["ncb.fr", "ncb.fr"]))),
        R("malformed", "header-expires-before-created", "The signed header's expires_at is before its created_at.",
          _header_change(_set("expires_at", (T0 - timedelta(minutes=1)).isoformat()))),
        R("malformed", "header-missing-language", "The signed header has no language.",
          _header_change(_drop("language"))),
        R("unsupported-type", "unknown-kind", "A v1 payload type of a kind no receiver knows (teleport).",
          _other_type("application/vnd.interpol-mesh.teleport.v1+json")),
        R("unsupported-type", "foreign-type", "A payload type outside the mesh's naming (application/json).",
          _other_type("application/json")),
        R("unsupported-version", "message-v2", "A message signed under payload type message.v2: a major version "
          "this v1 receiver does not speak.", _other_type("application/vnd.interpol-mesh.message.v2+json")),
        R("unsupported-version", "unknown-kind-v3", "A v3 payload type of a kind v1 does not know: still a version "
          "refusal.", _other_type("application/vnd.interpol-mesh.teleport.v3+json")),
        R("unknown-key", None, "Signed by a key id that is not in the key directory.",
          lambda n: plain(n, signer=_signer("ncb.de stolen", "ncb.de", "ncb.de/not-in-directory"))),
        R("wrong-office-key", None, "Sent on ncb.de's subject as ncb.de, but signed with a key of ncb.es.",
          lambda n: resigned(plain(n), lambda _: None, office_signer("ncb.es"))),
        R("bad-signature", "payload-altered", "One word of the payload was changed after signing.", _tamper),
        R("bad-signature", "payload-type-altered", "The payload type was changed from message to diffusion after "
          "signing (the signature covers it).", _type_swapped),
        R("bad-signature", "short-signature", "The signature is 5 bytes, not 64.", _short_signature),
        R("bad-signature", "second-signature-bad", "Two signatures by two keys of ncb.de; the second does not "
          "verify over this payload.", _second_signature_bad),
        R("header-mismatch", "kind", "Signed under the diffusion payload type, but the signed header says message.",
          _kind_mismatch),
        R("header-mismatch", "sender", "Signed by ncb.de on ncb.de's subject, but the signed header says ncb.es.",
          _header_change(_set("sender", "ncb.es"))),
        R("header-mismatch", "non-office-recipient", "The signed recipients name ncb.zz, which is no office of the "
          "directory.", _header_change(_set("recipients", ["ncb.fr", "ncb.zz"]))),
        R("header-mismatch", "unknown-subject-sender", "A valid message from ncb.de arrives on a subject whose "
          "sender token (ncb_zz) names no office.", plain, subject=subjects.direct("ncb.zz", "ncb.fr")),
        R("not-a-recipient", None, "A valid message from ncb.de to ncb.es only, delivered to ncb.fr.",
          lambda n: sealed(n, "message", "ncb.de", ("ncb.es",), {"title": "Vehicle check", "text": VEHICLE_TEXT})),
        R("revoked-key", "signed-after-revocation", f"Signed at {T0.isoformat()} by an ncb.de key revoked from "
          f"{REVOKED_FROM.isoformat()}.", lambda n: plain(n, signer=key_signer("revoked"))),
        R("revoked-key", "stored-after-revocation", f"Dated before the key's revocation ({LATE_REVOKED_FROM.isoformat()}) "
          "but stored by the bus after it: a backdated signature.", lambda n: plain(n, signer=key_signer("late-revoked")),
          stored_at=later),
        R("key-not-valid-at-signing-time", "after-valid-until", f"Signed by an ncb.de key valid only until "
          f"{EXPIRED_UNTIL.isoformat()}.", lambda n: plain(n, signer=key_signer("expired"))),
        R("key-not-valid-at-signing-time", "before-valid-from", f"Signed by an ncb.de key valid only from "
          f"{FUTURE_FROM.isoformat()}.", lambda n: plain(n, signer=key_signer("future"))),
        R("key-not-valid-at-signing-time", "stored-after-valid-until", f"Dated inside the key's validity (until "
          f"{SHORT_UNTIL.isoformat()}) but stored by the bus more than 5 minutes after it ended.",
          lambda n: plain(n, signer=key_signer("short")), stored_at=later),
        R("from-the-future", None, "Created 6 minutes after the receiver's clock (the allowed skew is 5).",
          lambda n: plain(n, created_at=NOW + MAX_CLOCK_SKEW + timedelta(minutes=1),
                          expires_at=NOW + timedelta(days=1)), stored_at=None),
        R("expired", None, "Expired one minute before the receiver's clock.",
          lambda n: plain(n, expires_at=NOW - timedelta(minutes=1))),
        R("expired", "at-now", "Expires exactly at the receiver's clock: at that instant it is expired.",
          lambda n: plain(n, expires_at=NOW)),
        R("schema-invalid", "missing-field", "The message body has no text.", _body_change(_drop("text"))),
        R("schema-invalid", "wrong-type", "request_for_assistance is the string \"true\", not a boolean (no coercion).",
          _body_change(_set("request_for_assistance", "true"))),
        R("schema-invalid", "empty-title", "The title is empty (at least one character).",
          _body_change(_set("title", ""))),
        R("schema-invalid", "bad-reference", "A reference is not a canonical lowercase UUID.",
          _body_change(_set("references", ["0195F3A0-0000-7000-8000-000000000001"]))),
        _forged_directory_key(de),
    ]  # fmt: skip


def _forged_directory_key(de: FileSigner) -> Vector:
    """Signed by an ncb.de key id whose listed public key is not the signer's: the signature fails."""
    name = "refuse/bad-signature--key-id-borrowed"
    forger = _signer("forger", "ncb.de", de.key_id)
    return Vector(name, "Signed with another private key under ncb.de's real key id.", "ncb.fr", DE_FR,
                  plain(name, signer=forger), refuse("bad-signature"))  # fmt: skip


def _boundaries() -> list[Vector]:
    """The edges of every time rule, where two implementations most easily differ by one comparison."""
    skew_edge = "accept/message--created-at-skew-limit"
    grace = "accept/message--stored-within-key-grace"
    offsets = "accept/message--times-with-offsets"

    def with_offsets(content: Json) -> None:
        content["header"]["created_at"] = "2026-01-05T13:00:00+01:00"  # = T0
        content["header"]["expires_at"] = "2026-01-06T07:00:00-05:00"  # = T0 + 24 h

    offset_data = resigned(plain(offsets), with_offsets, office_signer("ncb.de"))
    edge = plain(skew_edge, created_at=NOW + MAX_CLOCK_SKEW)
    graced = plain(grace, created_at=T0 + timedelta(minutes=5), signer=key_signer("short"))
    at_revocation = "refuse/revoked-key--revoked-at-signing-time"
    at_until = "refuse/key-not-valid-at-signing-time--signed-at-valid-until"
    return [
        Vector(skew_edge, "Created exactly 5 minutes after the receiver's clock: the skew allowed, not more.", "ncb.fr",
               DE_FR, edge, accept(edge), stored_at=None),
        Vector(grace, f"Signed inside the key's validity (until {SHORT_UNTIL.isoformat()}) and stored 4 minutes after "
               "it ended, within the bus's 5 minutes of grace.", "ncb.fr", DE_FR, graced, accept(graced),
               stored_at=SHORT_UNTIL + timedelta(minutes=4)),
        Vector(offsets, "Header times written with +01:00 and -05:00 offsets: compared as instants, not as text.",
               "ncb.fr", DE_FR, offset_data, accept(offset_data)),
        Vector(at_revocation, f"Signed at the very instant the key's revocation starts ({LATE_REVOKED_FROM.isoformat()}).",
               "ncb.fr", DE_FR, plain(at_revocation, created_at=LATE_REVOKED_FROM, signer=key_signer("late-revoked")),
               refuse("revoked-key"), stored_at=None),
        Vector(at_until, f"Signed at the very instant the key's validity ends ({SHORT_UNTIL.isoformat()}): the end is "
               "exclusive.", "ncb.fr", DE_FR, plain(at_until, created_at=SHORT_UNTIL, signer=key_signer("short")),
               refuse("key-not-valid-at-signing-time"), stored_at=None),
    ]  # fmt: skip


def _notice_subject_refusals() -> list[Vector]:
    """Python's receiver also binds notice events to notice subjects (after the checks above)."""
    on_direct = notice_event("refuse/header-mismatch--notice-on-direct-subject", notice_request())
    message = sealed("refuse/header-mismatch--message-on-notice-subject", "message", "gs", ("ncb.fr",),
                     {"title": "Vehicle check", "text": VEHICLE_TEXT})  # fmt: skip
    return [
        Vector("refuse/header-mismatch--notice-on-direct-subject", "A valid co-signed notice event from the GS that "
               "arrives on a direct subject (mesh.v1.direct.gs.ncb_fr) instead of mesh.v1.notice.ncb_fr.", "ncb.fr",
               subjects.direct("gs", "ncb.fr"), on_direct, refuse("header-mismatch")),
        Vector("refuse/header-mismatch--message-on-notice-subject", "A valid GS message (not a notice event) that "
               "arrives on the notice subject mesh.v1.notice.ncb_fr.", "ncb.fr", NOTICE_FR, message,
               refuse("header-mismatch")),
    ]  # fmt: skip


# -- Refusals that need the receiver's state ------------------------------------------------------


def _state_refusals() -> list[Vector]:
    from interpol_offices.cli.generate import example_envelopes

    examples = example_envelopes()
    hit_header, hit = examples["hit-report"]  # ncb.es -> ncb.fr, gs; the receipt's receiver is ncb.es
    sent = [_sent(hit_header, hit.data)]
    es_fr = subjects.direct("ncb.fr", "ncb.es")

    def receipt(name: str, sender: str = "ncb.fr", **body: Any) -> bytes:
        fields = {"receipt_type": "acknowledged", "for_message_id": hit_header.message_id, "digest": digest(hit.data),
                  "at": (hit_header.created_at + timedelta(minutes=10)).isoformat()} | body  # fmt: skip
        return sealed(name, "receipt", sender, ("ncb.es",), fields, created_at=hit_header.created_at + timedelta(minutes=10),
                      correlation_id=hit_header.message_id)  # fmt: skip

    now = hit_header.created_at + timedelta(hours=1)
    stored = hit_header.created_at + timedelta(minutes=10, seconds=1)
    out = []
    for variant, sender, body, text in [
        (
            "unknown-message",
            "ncb.fr",
            {"for_message_id": message_id("never-sent")},
            "A receipt for a message id this office never sent.",
        ),
        (
            "wrong-digest",
            "ncb.fr",
            {"digest": digest(hit.data + b" ")},
            "A receipt whose digest is not that of the envelope this office sent.",
        ),
        (
            "not-a-recipient",
            "ncb.de",
            {},
            "A receipt from ncb.de for a message this office sent only to ncb.fr and gs.",
        ),
        (
            "time-before-sent",
            "ncb.fr",
            {"at": (hit_header.created_at - timedelta(minutes=6)).isoformat()},
            "A receipt dated 6 minutes before the message was created (the allowed skew is 5).",
        ),
        (
            "time-in-future",
            "ncb.fr",
            {"at": (now + timedelta(minutes=6)).isoformat()},
            "A receipt dated 6 minutes after the receiver's clock (the allowed skew is 5).",
        ),
    ]:
        name = f"refuse/receipt-mismatch--{variant}"
        out.append(Vector(name, text, "ncb.es", subjects.direct(sender, "ncb.es") if sender != "ncb.fr" else es_fr,
                          receipt(name, sender, **body), refuse("receipt-mismatch"), now=now, stored_at=stored,
                          state={"sent": sent}))  # fmt: skip
    edge = "accept/receipt--at-skew-limit"
    edge_data = receipt(edge, at=(hit_header.created_at - MAX_CLOCK_SKEW).isoformat())
    out.append(Vector(edge, "A receipt dated exactly 5 minutes before the acknowledged message was created: the skew "
                      "allowed, not more.", "ncb.es", es_fr, edge_data, accept(edge_data), now=now, stored_at=stored,
                      state={"sent": sent}))  # fmt: skip
    replay = plain("refuse/replay")
    failing = plain("refuse/processing-failed")
    out += [
        Vector("refuse/replay", "A valid message whose message id this office has already accepted.", "ncb.fr", DE_FR,
               replay, refuse("replay"), state={"accepted_message_ids": [message_id("refuse/replay")]}),
        Vector("refuse/processing-failed", "A valid message that this office's handler fails to process on every "
               "attempt: quarantined for an operator.", "ncb.fr", DE_FR, failing, refuse("processing-failed"),
               state={"processing_fails": True}),
    ]  # fmt: skip
    return out


def vectors() -> list[Vector]:
    """Every vector, accept vectors first, each name once."""
    found = [*_accept_vectors(), *_stateless_refusals(), *_boundaries(), *_notice_subject_refusals(),
             *_cosign_refusals(), *_state_refusals()]  # fmt: skip
    names = [v.name for v in found]
    assert len(names) == len(set(names)), "a vector name twice"
    return sorted(found, key=lambda v: (not v.name.startswith("accept/"), v.name))


# -- Files ----------------------------------------------------------------------------------------


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def vector_files() -> Files:
    """Path relative to the repository root -> exact bytes, deterministic (fixed keys, ids and clock)."""
    from interpol_offices.cli.vectors_readme import readme

    found = vectors()
    doc = directory()
    files: Files = {
        f"{VECTORS}/trust-anchor.pub": (root_signer().public_key_b64() + "\n").encode(),
        f"{VECTORS}/key-directory.json": sign_directory(doc, root_signer()) + b"\n",
        f"{VECTORS}/offices.json": _json({"offices": sorted({k.office_id for k in doc.keys})}),
        f"{VECTORS}/index.json": _json({"version": 1, "vectors": [f"{v.name}.json" for v in found]}),
    }
    for v in found:
        files[f"{VECTORS}/{v.name}.json"] = _json(v.document())
    files[f"{VECTORS}/README.md"] = readme(found, doc, root_signer()).encode()
    return files
