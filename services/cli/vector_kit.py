"""What every conformance vector is made of: the test keys, the clock, real sealing, and ways to damage.

Shared by the vector_* modules; `vectors.py` assembles them into proto-schemas/v1/vectors/.
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
from interpol_mesh.crypto import FileSigner, KeyDirectoryDocument, KeyRecord, pae
from interpol_mesh.envelope import Header, seal
from interpol_mesh.envelope.rejection import RejectReason
from interpol_mesh.messages import BODY_MODELS

Files = dict[str, bytes]


Json = dict[str, Any]


VECTORS = "proto-schemas/v1/vectors"


T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # signing time of most vectors


NOW = T0 + timedelta(hours=2)  # the receiver's clock, unless a vector says otherwise


KEYS_FROM = datetime(2026, 1, 1, tzinfo=UTC)


OFFICES = ("gs", "ncb.de", "ncb.es", "ncb.fr")


GENERATED = "Generated from the code by `make gen` (services/cli/vectors.py); do not edit by hand."


VEHICLE_TEXT = "Please confirm the registration of vehicle WDB123."


class LooseBody(BaseModel):
    """Any body at all: lets real `seal` sign a body the schema forbids, as a broken peer would."""

    model_config = ConfigDict(extra="allow")


def test_signer(name: str, office_id: str, key_id: str | None = None) -> FileSigner:
    from interpol_offices.cli.generate import example_signer  # generate imports this module

    return example_signer(name, office_id, key_id)


def office_signer(office: str) -> FileSigner:
    """The current key of each office: the same public test keys as proto-schemas/v1/examples/."""
    return test_signer(office, office)


def root_signer() -> FileSigner:
    return test_signer("gs-root", "gs")


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
    out = {name: (test_signer(f"ncb.de {name}", "ncb.de", f"ncb.de/vector-{name}"), f) for name, f in table.items()}
    # ncb.fr keys that were no longer good when it signed its notice request (a day before T0)
    late: dict[str, Json] = {"fr-revoked": {"revoked_from": T0 - timedelta(days=2)},
            "fr-expired": {"valid_until": T0 - timedelta(days=2)}}  # fmt: skip
    for name, fields in late.items():
        out[name] = (test_signer(f"ncb.fr {name[3:]}", "ncb.fr", f"ncb.fr/vector-{name[3:]}"), fields)
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


def message_id(name: str) -> str:
    """A UUIDv7 at T0 whose random bits are a hash of the vector's name: fixed, and distinct per vector."""
    ms = int(T0.timestamp() * 1000)
    n = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8]) & ((1 << 62) - 1)
    return str(uuid.UUID(int=ms << 80 | 0x7 << 76 | 0b10 << 62 | n))


def header_of(name: str, kind: str, sender: str, recipients: tuple[str, ...], **extra: Any) -> Header:
    fields: Json = {"message_id": message_id(name), "kind": kind, "sender": sender, "recipients": recipients,
                    "created_at": T0, "language": "en"}  # fmt: skip
    return Header.model_validate(fields | extra)


def _body(kind: str, fields: Json) -> BaseModel:
    return BODY_MODELS[kind].model_validate(fields)


def sealed(name: str, kind: str, sender: str, recipients: tuple[str, ...], body: Json,
           signer: FileSigner | None = None, **extra: Any) -> bytes:  # fmt: skip
    """Real sender code: `seal` of a valid header and body (a loose body only when the test is the body)."""
    model = _body(kind, body) if kind in BODY_MODELS else LooseBody.model_validate(body)
    return seal(header_of(name, kind, sender, recipients, **extra), model, signer or office_signer(sender)).data


def outer_of(data: bytes) -> Json:
    outer: Json = json.loads(data)
    return outer


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def payload_of(data: bytes) -> bytes:
    return base64.b64decode(outer_of(data)["payload"])


def signature(ptype: str, payload: bytes, signer: FileSigner) -> Json:
    return {"keyid": signer.key_id, "sig": base64.b64encode(signer.sign(pae(ptype, payload))).decode()}


def dsse(ptype: str, payload: bytes, signatures: list[Json]) -> bytes:
    return compact({"payloadType": ptype, "payload": base64.b64encode(payload).decode(), "signatures": signatures})


def resigned(data: bytes, change: Callable[[Json], None], signer: FileSigner, ptype: str | None = None) -> bytes:
    """Decode the signed content, change it, and sign the new bytes properly: the content is the test."""
    outer = outer_of(data)
    content: Json = json.loads(base64.b64decode(outer["payload"]))
    change(content)
    kind_type = ptype or outer["payloadType"]
    payload = compact(content)
    return dsse(kind_type, payload, [signature(kind_type, payload, signer)])


def resigned_raw(data: bytes, payload: bytes, signer: FileSigner, ptype: str | None = None) -> bytes:
    kind_type = ptype or outer_of(data)["payloadType"]
    return dsse(kind_type, payload, [signature(kind_type, payload, signer)])


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
    content = json.loads(payload_of(data))
    header = content["header"]
    return {"outcome": "accept", "reason": None, "kind": header["kind"], "message_id": header["message_id"], **more}


def direct(sender: str, recipient: str) -> str:
    return subjects.direct(sender, recipient)


# A plain message ncb.de -> ncb.fr: the base most refusals damage.
def plain(name: str, **extra: Any) -> bytes:
    body = {"title": "Vehicle check", "text": VEHICLE_TEXT}
    return sealed(name, "message", "ncb.de", ("ncb.fr",), body, **extra)


DE_FR = subjects.direct("ncb.de", "ncb.fr")


def plain_refusal(reason: RejectReason, variant: str | None, description: str, build: Callable[[str], bytes],
                   **kw: Any) -> Vector:  # fmt: skip
    name = f"refuse/{reason}" + (f"--{variant}" if variant else "")
    return Vector(name, description, "ncb.fr", kw.pop("subject", DE_FR), build(name), refuse(reason), **kw)


def sent_entry(header: Header, data: bytes) -> Json:
    return {"message_id": header.message_id, "recipients": list(header.recipients), "digest": digest(data),
            "created_at": header.created_at.isoformat()}  # fmt: skip


REQUEST_NAME = "cosign/request"


def notice_content(title: str | None = None) -> Json:
    from interpol_offices.cli.generate import NOTICE

    return NOTICE | ({"title": title} if title else {})


def notice_request(name: str = REQUEST_NAME, title: str | None = None, signer: FileSigner | None = None,
                   sender: str = "ncb.fr", ptype: str | None = None) -> bytes:  # fmt: skip
    """The requesting office's own envelope of its notice request, exactly as the GS received it."""
    data = sealed(name, "notice-request", sender, ("gs",), notice_content(title) | {"requesting_office": sender},
                  signer=signer or office_signer(sender), created_at=T0 - timedelta(days=1), language="fr-FR")  # fmt: skip
    if ptype is not None:
        return resigned(data, lambda _: None, signer or office_signer(sender), ptype)
    return data


def as_signed_request(data: bytes) -> Json:
    outer = outer_of(data)
    return {"payloadType": outer["payloadType"], "payload": outer["payload"], "signatures": outer["signatures"]}


def notice_event(name: str, request: bytes | None, *, event: str = "published", notice_id: str | None = None,
                 notice: Json | None = None, requesting_office: str = "ncb.fr", sender: str = "gs",
                 recipients: tuple[str, ...] = ("ncb.fr", "ncb.es")) -> bytes:  # fmt: skip
    body: Json = {
        "event": event, "notice_id": notice_id or message_id(REQUEST_NAME), "notice_type": "red",
        "requesting_office": requesting_office, "notice": notice or notice_content(),
        "published_at": (T0 - timedelta(minutes=5)).isoformat(), "expires_at": "2031-01-05T00:00:00+00:00",
    }  # fmt: skip
    if request is not None:
        body["request"] = as_signed_request(request)
    if event == "cancelled":
        body["reason"] = "Person located and extradited (test vector)."
    return sealed(name, "notice-event", sender, recipients, body, correlation_id=body["notice_id"])


NOTICE_FR = subjects.notice("ncb.fr")


def requester_cosigners() -> list[Json]:
    return [{"office_id": "ncb.fr", "key_id": office_signer("ncb.fr").key_id}]


def text_edit(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, old
    return data.replace(old, new)


def header_change(change: Callable[[Json], None]) -> Callable[[str], bytes]:
    def build(name: str) -> bytes:
        return resigned(plain(name), lambda c: change(c["header"]), office_signer("ncb.de"))

    return build


def set_field(key: str, value: Any) -> Callable[[Json], None]:
    def change(target: Json) -> None:
        target[key] = value

    return change


def retyped(ptype: str) -> Callable[[str], bytes]:
    def build(name: str) -> bytes:
        return resigned(plain(name), lambda _: None, office_signer("ncb.de"), ptype)

    return build


def body_change(change: Callable[[Json], None]) -> Callable[[str], bytes]:
    def build(name: str) -> bytes:
        return resigned(plain(name), lambda c: change(c["body"]), office_signer("ncb.de"))

    return build


def drop_field(key: str) -> Callable[[Json], None]:
    def change(target: Json) -> None:
        del target[key]

    return change


def payload_edit(old: bytes, new: bytes) -> Callable[[str], bytes]:
    """Exactly these signed bytes with one text edit, properly signed again: the content is the test."""

    def build(name: str) -> bytes:
        data = plain(name)
        return resigned_raw(data, text_edit(payload_of(data), old, new), office_signer("ncb.de"))

    return build
