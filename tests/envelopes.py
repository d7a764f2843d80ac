"""Craft envelopes the way an attacker or a broken peer would, to test every rejection path."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from interpol_mesh.clock import SystemClock
from interpol_mesh.crypto import FileSigner, pae, read_private_key
from interpol_mesh.envelope import Header, seal
from interpol_mesh.ids import new_message_id
from interpol_mesh.messages import payload_type


class LooseBody(BaseModel):
    """Any body at all, to produce schema-invalid payloads that are still properly signed."""

    model_config = ConfigDict(extra="allow")


def signer_of(key_dir: Path, office_id: str) -> FileSigner:
    return read_private_key(key_dir / f"{office_id}.key")


def header(sender: str, recipients: list[str], *, kind: str = "message", created_at: datetime | None = None,
           expires_in: timedelta = timedelta(days=1)) -> Header:  # fmt: skip
    now = created_at or SystemClock().now()
    return Header(
        message_id=new_message_id(SystemClock()),
        kind=kind,  # type: ignore[arg-type]
        sender=sender,
        recipients=tuple(recipients),
        created_at=now,
        expires_at=now + expires_in,
        language="en",
    )


def message_body(text: str = "Please confirm the registration of vehicle WDB123.") -> LooseBody:
    return LooseBody(title="Request", text=text)


def sealed(h: Header, body: BaseModel, signer: FileSigner) -> bytes:
    return seal(h, body, signer).data


def tamper(data: bytes) -> bytes:
    outer: dict[str, Any] = json.loads(data)
    payload = base64.b64decode(outer["payload"]).replace(b"WDB123", b"WDB999")
    outer["payload"] = base64.b64encode(payload).decode()
    return json.dumps(outer).encode()


def short_signature(data: bytes) -> bytes:
    """A signature of the wrong length (PyNaCl raises ValueError, not BadSignatureError)."""
    outer: dict[str, Any] = json.loads(data)
    outer["signatures"][0]["sig"] = base64.b64encode(b"short").decode()
    return json.dumps(outer).encode()


# -- Raw signed bytes, for inputs the models would never produce ------------------------------------


def header_fields(sender: str, recipients: list[str], *, kind: str = "message", **overrides: Any) -> dict[str, Any]:
    """A valid header as JSON values, to be bent into one the schema forbids."""
    fields: dict[str, Any] = json.loads(header(sender, recipients, kind=kind).model_dump_json())
    return fields | overrides


def dsse_signature(payload: bytes, signer: FileSigner, *, kind: str = "message") -> dict[str, str]:
    sig = signer.sign(pae(payload_type(kind), payload))
    return {"keyid": signer.key_id, "sig": base64.b64encode(sig).decode()}


def dsse(payload: bytes, signatures: list[dict[str, Any]], *, kind: str = "message") -> bytes:
    outer = {"payloadType": payload_type(kind), "payload": base64.b64encode(payload).decode(), "signatures": signatures}
    return json.dumps(outer).encode()


def signed_payload(payload: bytes, signer: FileSigner, *, kind: str = "message") -> bytes:
    """Exactly these payload bytes, properly signed: the signature is good, the content is the test."""
    return dsse(payload, [dsse_signature(payload, signer, kind=kind)], kind=kind)


def signed_fields(fields: dict[str, Any], body: dict[str, Any], signer: FileSigner, *, kind: str = "message") -> bytes:
    return signed_payload(json.dumps({"header": fields, "body": body}).encode(), signer, kind=kind)


def of_size(h: Header, signer: FileSigner, size: int) -> bytes:
    """A validly signed message of at least `size` bytes and not much more (the text is base64'd once)."""
    text = ""
    while True:
        data = sealed(h, message_body(text), signer)
        if len(data) >= size:
            return data
        text += "x" * max(1, (size - len(data)) * 3 // 4)


# -- Co-signed notices -------------------------------------------------------------------------------


def notice_request_envelope(signer: FileSigner, request: BaseModel, *, notice_id: str | None = None,
                            created_at: datetime | None = None) -> bytes:  # fmt: skip
    """The requesting office's own signed `notice-request` (to the GS); its message id is the notice id."""
    h = header(signer.office_id, ["gs"], kind="notice-request", created_at=created_at)
    if notice_id is not None:
        h = h.model_copy(update={"message_id": notice_id})
    return sealed(h, request, signer)


def carried(envelope: bytes) -> dict[str, Any]:
    """A signed envelope as a notice event carries it in `request` (the DSSE JSON object)."""
    outer: dict[str, Any] = json.loads(envelope)
    return outer
