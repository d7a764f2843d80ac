"""The signer policy for notice events, check by check, on the committed example keys (no bus needed).

tests/test_cosigned_notices.py drives the same refusals through the real bus; here each branch of
`check_signers` is reached once, so a detail names the check that failed.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest

from interpol_mesh.crypto import KeyDirectory, KeyDirectoryDocument, pae
from interpol_mesh.envelope import Header, Rejected, seal
from interpol_mesh.envelope.signers import CoSigner, check_signers
from interpol_mesh.messages import NoticeEvent, NoticeRequest, payload_type
from interpol_offices.cli import generate as g

FR, DE, GS = (g.example_signer(o, o) for o in ("ncb.fr", "ncb.de", "gs"))
AT = g.EXAMPLE_T0
REQUEST = NoticeRequest.model_validate(g.NOTICE)


def _keys(**fr_changes: Any) -> KeyDirectory:
    doc = g.example_directory()
    records = tuple(r.model_copy(update=fr_changes) if r.office_id == "ncb.fr" else r for r in doc.keys)
    return KeyDirectory(KeyDirectoryDocument(version=doc.version, issued_at=doc.issued_at, keys=records))


def _header(sender: str, kind: str, message_id: str, recipients: tuple[str, ...]) -> Header:
    return Header.model_validate({"message_id": message_id, "kind": kind, "sender": sender, "recipients": recipients,
                                  "created_at": AT, "language": "fr-FR"})  # fmt: skip


def _request(signer: Any = FR, *, sender: str = "ncb.fr", body: NoticeRequest = REQUEST) -> dict[str, Any]:
    h = _header(sender, "notice-request", g.NOTICE_ID, ("gs",))
    if signer.office_id != sender:  # seal refuses to sign for another office: sign the bytes by hand
        payload = json.dumps({"header": json.loads(h.model_dump_json()), "body": body.model_dump(mode="json")}).encode()
        sig = signer.sign(pae(payload_type("notice-request"), payload))
        return {"payloadType": payload_type("notice-request"), "payload": base64.b64encode(payload).decode(),
                "signatures": [{"keyid": signer.key_id, "sig": base64.b64encode(sig).decode()}]}  # fmt: skip
    out: dict[str, Any] = json.loads(seal(h, body, signer).data)
    return out


def _check(request: dict[str, Any] | None, *, event: str = "published", sender: str = "gs",
           keys: KeyDirectory | None = None, **changes: Any) -> tuple[CoSigner, ...]:  # fmt: skip
    body = NoticeEvent.model_validate({
        "event": event, "notice_id": g.NOTICE_ID, "notice_type": "red", "requesting_office": "ncb.fr",
        "notice": g.NOTICE, "published_at": AT, "request": request, **changes,
    })  # fmt: skip
    header = _header(sender, "notice-event", g._message_id(2), ("ncb.de",))
    return check_signers("notice-event", header, body, keys or _keys(), now=AT)


def _refused(reason: str, detail: str, request: dict[str, Any] | None, **kw: Any) -> None:
    with pytest.raises(Rejected) as refused:
        _check(request, **kw)
    assert refused.value.reason == reason and detail in refused.value.detail, refused.value


def test_a_genuine_request_makes_the_requester_a_cosigner() -> None:
    assert _check(_request()) == (CoSigner("ncb.fr", FR.key_id, g.NOTICE_ID, "requester"),)


def test_a_cancellation_may_be_the_gs_alone_and_other_kinds_need_no_cosigner() -> None:
    assert _check(None, event="cancelled", reason="withdrawn") == ()
    header = _header("ncb.fr", "notice-request", g.NOTICE_ID, ("gs",))
    assert check_signers("notice-request", header, REQUEST, _keys(), now=AT) == ()


def test_missing_signers() -> None:
    _refused("missing-signer", "General Secretariat's decision", _request(), sender="ncb.fr")
    _refused("missing-signer", "no signed notice-request", None)
    _refused("missing-signer", "no signed notice-request", None, event="updated")


def _altered(request: dict[str, Any], **outer: Any) -> dict[str, Any]:
    return request | outer


def test_bad_cosignatures_say_which_check_failed() -> None:
    good = _request()
    payload = base64.b64decode(good["payload"])
    swapped = base64.b64encode(payload.replace(b"EXEMPLE", b"EXEMPLO", 1)).decode()
    sig = good["signatures"][0]
    cases = [
        (_altered(good, payloadType=payload_type("message")), "inner payload type"),
        (_altered(good, payload="not base64!"), "not standard base64"),
        (_altered(good, signatures=[sig, sig]), "appears twice"),
        (_altered(good, signatures=[{"keyid": "ncb.fr/nope", "sig": sig["sig"]}]), "not in key directory"),
        (_request(DE, sender="ncb.de"), "belongs to ncb.de"),
        (_altered(good, payload=swapped), "does not verify"),
        (_request(FR, sender="ncb.de"), "inner header sender is ncb.de"),
    ]
    for request, detail in cases:
        _refused("bad-cosignature", detail, request)
    _refused("bad-cosignature", "revoked-key", good, keys=_keys(revoked_from=AT - timedelta(minutes=1)))
    _refused("bad-cosignature", "key-not-valid-at-signing-time", good, keys=_keys(valid_until=AT))


def test_an_inner_payload_that_is_not_a_notice_request_is_a_bad_cosignature() -> None:
    h = json.loads(_header("ncb.fr", "message", g.NOTICE_ID, ("gs",)).model_dump_json())
    for payload, detail in [
        (b'{"header": {}, "header": {}}', "one reading"),
        (json.dumps({"header": h}).encode(), "exactly header and body"),
        (json.dumps({"header": h, "body": g.NOTICE}).encode(), "inner header kind is message"),
        (json.dumps({"header": h | {"kind": "notice-request"}, "body": {"title": 1}}).encode(), "invalid"),
    ]:
        sig = base64.b64encode(FR.sign(pae(payload_type("notice-request"), payload))).decode()
        request = {"payloadType": payload_type("notice-request"), "payload": base64.b64encode(payload).decode(),
                   "signatures": [{"keyid": FR.key_id, "sig": sig}]}  # fmt: skip
        _refused("bad-cosignature", detail, request)


def test_a_genuine_request_that_is_not_this_notice_is_a_mismatch() -> None:
    good = _request()
    _refused("cosignature-mismatch", "the signed request is", good, notice_id=g._message_id(9))
    _refused("cosignature-mismatch", "differs from the signed request", good, notice=g.NOTICE | {"title": "Autre"})
    other = g.NOTICE | {"requesting_office": "ncb.de"}
    _refused("cosignature-mismatch", "differ", good, notice=other)
    # The GS attributes a request to its signer: a body naming another office still matches as France's.
    misnamed = _request(body=REQUEST.model_copy(update={"requesting_office": "ncb.de"}))
    assert _check(misnamed) == (CoSigner("ncb.fr", FR.key_id, g.NOTICE_ID, "requester"),)
