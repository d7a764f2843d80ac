"""The signed bytes have one reading: duplicate keys, extra fields, coerced values and free-text ids are refused.

Every case below was accepted before (issue 16, findings 7 and 8): the last of two `sender` keys won,
a number was taken as a time, a list with a bad second signature passed on its first one.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from nacl.signing import SigningKey

from conftest import MeshFactory
from envelopes import dsse, dsse_signature, header_fields, signed_fields, signed_payload, signer_of
from interpol_mesh.bus import subjects
from interpol_mesh.clock import SystemClock
from interpol_mesh.crypto import (
    FileSigner,
    KeyDirectoryDocument,
    KeyDirectoryRejected,
    KeyRecord,
    open_directory,
    pae,
    sign_directory,
)
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until

BODY = {"title": "Request", "text": "Please confirm the registration of vehicle WDB123."}
TO_ES = ["ncb.es"]


def _payload(fields: dict[str, Any], body: dict[str, Any] = BODY) -> bytes:
    return json.dumps({"header": fields, "body": body}).encode()


def _with_id(message_id: str) -> dict[str, Any]:
    return header_fields("ncb.fr", TO_ES, message_id=message_id)


async def _publish_then_barrier(mesh: TestMesh, sender: str, cases: list[bytes]) -> list[str]:
    """Publish each case, then one valid message; return the quarantine reasons once that one is in."""
    last = _payload(header_fields(sender, TO_ES), {**BODY, "text": "the barrier"})
    nc = await mesh.connect_as(sender)
    try:
        js = nc.jetstream()
        for i, data in enumerate(cases):
            await js.publish(subjects.direct(sender, "ncb.es"), data, headers={"Nats-Msg-Id": f"case-{i}"})
        barrier = signed_payload(last, signer_of(mesh.root / "keys", sender))
        await js.publish(subjects.direct(sender, "ncb.es"), barrier, headers={"Nats-Msg-Id": "barrier"})
    finally:
        await nc.close()
    inbox = tables.inbox

    async def barrier_in() -> bool:
        texts = [r.body["text"] for r in await mesh.rows("ncb.es", sa.select(inbox.c.body))]
        return "the barrier" in texts

    await wait_until(barrier_in, what="the valid message published after the bad ones")
    q = tables.quarantine
    return [r.reason for r in await mesh.rows("ncb.es", sa.select(q.c.reason).order_by(q.c.id))]


async def test_signed_bytes_with_two_readings_or_off_schema_values_are_refused(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.es")  # the GS keeps the key directory readable: an unknown key is refused, not held
    fr = signer_of(mesh.root / "keys", "ncb.fr")
    now = SystemClock().now()

    # The header's `sender` twice: the last (ncb.fr, the signer) won, a first-key-wins reader sees ncb.de.
    good = _payload(header_fields("ncb.fr", TO_ES))
    two_senders = good.replace(b'{"header": {', b'{"header": {"sender": "ncb.de", ', 1)
    assert two_senders.count(b'"sender"') == 2
    sig = dsse_signature(good, fr)
    outer = json.loads(dsse(good, [sig]))
    decoy = base64.b64encode(_payload(header_fields("ncb.fr", TO_ES))).decode()
    two_payloads = (
        f'{{"payloadType": "{outer["payloadType"]}", "payload": "{decoy}", "payload": "{outer["payload"]}", '
        f'"signatures": {json.dumps(outer["signatures"])}}}'
    ).encode()
    unlisted = FileSigner("ncb.fr/unlisted", "ncb.fr", SigningKey.generate())
    backwards = header_fields(  # both times within the clock skew, so it is not simply `expired`
        "ncb.fr",
        TO_ES,
        created_at=(now + timedelta(minutes=2)).isoformat(),
        expires_at=(now + timedelta(minutes=1)).isoformat(),
    )
    nested_dup = good.replace(b'"text": ', b'"title": "again", "text": ', 1)
    cases: list[tuple[str, bytes]] = [
        ("malformed", signed_payload(two_senders, fr)),
        ("malformed", two_payloads),
        ("malformed", signed_payload(nested_dup, fr)),  # a duplicate inside the body counts as well
        ("malformed", json.dumps(outer | {"extra": 1}).encode()),
        ("malformed", dsse(good, [sig | {"extra": "x"}])),
        ("malformed", dsse(good, [sig, sig])),  # one key id twice
        ("unknown-key", dsse(good, [sig, dsse_signature(good, unlisted)])),  # valid, then one nobody can check
        ("malformed", signed_fields(header_fields("ncb.fr", TO_ES, created_at=int(now.timestamp())), BODY, fr)),
        ("malformed", signed_fields(header_fields("ncb.fr", TO_ES, created_at=str(int(now.timestamp()))), BODY, fr)),
        ("malformed", signed_fields(backwards, BODY, fr)),  # expires before it was created
        (
            "header-mismatch",
            signed_fields(header_fields("ncb.fr", TO_ES) | {"recipients": ["ncb.es", "ncb.zz"]}, BODY, fr),
        ),
        ("malformed", signed_fields(header_fields("ncb.fr", TO_ES) | {"recipients": ["ncb.es", ""]}, BODY, fr)),
        ("malformed", signed_fields(header_fields("ncb.fr", TO_ES) | {"recipients": ["ncb.es", "ncb.es"]}, BODY, fr)),
        ("malformed", signed_fields(_with_id("../x"), BODY, fr)),
        ("malformed", signed_fields(_with_id("a/b"), BODY, fr)),
        ("malformed", signed_fields(_with_id("019b8e2a-6c00-7000-8000-00000000000\x00"), BODY, fr)),
        ("malformed", signed_fields(_with_id("019B8E2A-6C00-7000-8000-000000000001"), BODY, fr)),
        ("schema-invalid", signed_fields(header_fields("ncb.fr", TO_ES), BODY | {"request_for_assistance": 1}, fr)),
    ]
    reasons = await _publish_then_barrier(mesh, "ncb.fr", [data for _, data in cases])
    assert reasons == [reason for reason, _ in cases]
    kinds = await mesh.rows("ncb.es", sa.select(tables.inbox.c.kind))
    assert len(kinds) == 1, "only the barrier got in"
    details = (await mesh.client("ncb.es").get("/v1/quarantine", params={"reason": "malformed"})).json()
    assert any("duplicate key 'sender'" in d["detail"] for d in details)


async def test_every_signature_in_the_list_must_verify(make_mesh: MeshFactory) -> None:
    """During a rotation an office holds two keys: both may sign, but a bad second signature is a forgery."""
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.es")
    fr = mesh.ctx("ncb.fr")
    old = signer_of(mesh.root / "keys", "ncb.fr")
    rotated = await mesh.client("ncb.fr").post(
        "/v1/keys/rotate", json={"overlap_hours": 1, "invalidate_live_tokens": True}
    )
    assert rotated.status_code == 202, rotated.text
    new_key = rotated.json()["new_key_id"]

    async def es_knows_new_key() -> bool:
        return fr.signer.key_id == new_key and mesh.ctx("ncb.es").keyring.current.record(new_key) is not None

    await wait_until(es_knows_new_key, what="ncb.es to know ncb.fr's new key")
    new = fr.signer
    assert isinstance(new, FileSigner)
    forged, both = _payload(header_fields("ncb.fr", TO_ES)), _payload(header_fields("ncb.fr", TO_ES))
    wrong = {"keyid": old.key_id, "sig": base64.b64encode(old.sign(pae("other", forged))).decode()}
    cases = [
        dsse(forged, [dsse_signature(forged, new), wrong]),
        dsse(both, [dsse_signature(both, new), dsse_signature(both, old)]),
    ]
    assert await _publish_then_barrier(mesh, "ncb.fr", cases) == ["bad-signature"]
    held = await mesh.scalar(
        "ncb.es",
        sa.select(tables.inbox.c.key_id).where(tables.inbox.c.message_id == json.loads(both)["header"]["message_id"]),
    )
    assert held == new_key, "two good signatures by the sender's keys are accepted"


async def test_the_inbox_is_listed_in_order_of_arrival_not_by_the_ids_senders_choose(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.es")
    fr = signer_of(mesh.root / "keys", "ncb.fr")
    ids = ["ffffffff-ffff-7fff-bfff-ffffffffffff", "00000000-0000-7000-8000-000000000000", "80000000-0000-7000-8000-000000000000"]  # fmt: skip
    nc = await mesh.connect_as("ncb.fr")
    try:
        for mid in ids:
            data = signed_fields(_with_id(mid), BODY, fr)
            await nc.jetstream().publish(subjects.direct("ncb.fr", "ncb.es"), data, headers={"Nats-Msg-Id": mid})
    finally:
        await nc.close()
    client = mesh.client("ncb.es")

    async def all_in() -> list[str]:
        page = (await client.get("/v1/inbox")).json()
        return [i["message_id"] for i in page["items"]] if len(page["items"]) == 3 else []

    assert await wait_until(all_in, what="three messages in the inbox") == ids[::-1], "newest arrival first"
    walked, cursor = [], None
    while True:
        page = (await client.get("/v1/inbox", params={"limit": 1} | ({"cursor": cursor} if cursor else {}))).json()
        walked += [i["message_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == ids[::-1]
    assert (await client.get("/v1/inbox", params={"cursor": "../x"})).status_code == 422
    for mid in ids:
        assert (await client.get(f"/v1/inbox/{mid}")).status_code == 200


@pytest.mark.parametrize(
    "bend",
    [
        lambda p: p.replace(b'{"version":', b'{"version":99,"version":', 1),
        lambda p: p.replace(b'"version":1', b'"version":true', 1),
        lambda p: p.replace(b'"issued_at":"2026-01-01T00:00:00Z"', b'"issued_at":1767225600', 1),
    ],
    ids=["duplicate-version", "bool-for-int", "number-for-time"],
)
def test_the_key_directory_is_read_the_same_strict_way(bend: Any) -> None:
    root = FileSigner("gs/root", "gs", SigningKey.generate())
    at = datetime(2026, 1, 1, tzinfo=UTC)
    record = KeyRecord(key_id="ncb.fr/1", office_id="ncb.fr", public_key=root.public_key_b64(), valid_from=at)
    signed = sign_directory(KeyDirectoryDocument(version=1, issued_at=at, keys=(record,)), root)
    assert open_directory(signed, root._key.verify_key).version == 1
    payload = base64.b64decode(json.loads(signed)["payload"])
    bent = bend(payload)
    assert bent != payload
    sig = base64.b64encode(root.sign(pae(json.loads(signed)["payloadType"], bent))).decode()
    resigned = json.dumps(json.loads(signed) | {"payload": base64.b64encode(bent).decode(), "signatures": [{"keyid": root.key_id, "sig": sig}]}).encode()  # fmt: skip
    with pytest.raises(KeyDirectoryRejected):
        open_directory(resigned, root._key.verify_key)
