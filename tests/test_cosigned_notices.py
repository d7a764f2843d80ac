"""Co-signed notices: a published notice is the requesting office's decision and the GS's, and proves both.

The GS embeds the requester's own signed request in the notice event it signs; every recipient
verifies both signatures (the signer policy, interpol_mesh.envelope.signers) and its notice history
names both signers. Forged events, published on the real bus with the real keys, are refused with
their reasons (`missing-signer`, `cosignature-mismatch`, `bad-cosignature`), quarantined, audited,
and the consumer goes on.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from conftest import MeshFactory
from envelopes import carried, header, notice_request_envelope, sealed, signer_of
from interpol_mesh.audit.tables import audit_log
from interpol_mesh.bus import subjects
from interpol_mesh.clock import SystemClock
from interpol_mesh.crypto import FileSigner
from interpol_mesh.ids import new_message_id
from interpol_mesh.messages import NoticeEvent, NoticeRequest
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until
from test_notices import decide, notice_at, red, request_notice


def _signers(entry: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(s["office_id"], s["key_id"], s["role"]) for s in entry["signers"]]


def _entry(notice: dict[str, Any], action: str) -> dict[str, Any]:
    entries = [e for e in notice["history"] if e["action"] == action]
    assert len(entries) == 1, notice["history"]
    return entries[0]


async def test_a_published_notice_carries_both_signatures_and_every_history_names_both_signers(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.es")
    fr_key, gs_key = mesh.ctx("ncb.fr").signer.key_id, mesh.ctx("gs").signer.key_id
    requester, publisher = ("ncb.fr", fr_key, "requester"), ("gs", gs_key, "publisher")

    notice_id = (await request_notice(mesh, "ncb.fr", red(distribution={"mode": "allow", "countries": ["ES"]})))[
        "notice_id"
    ]
    at_gs = await notice_at(mesh, "gs", notice_id, "pending-review")
    assert _signers(_entry(at_gs, "received")) == [requester]
    published = await decide(mesh, notice_id, "publish")
    assert published.status_code == 200, published.text
    event_id = published.json()["message_id"]

    copy = await notice_at(mesh, "ncb.es", notice_id, "published")
    assert copy["requesting_office"] == "ncb.fr"
    assert _entry(copy, "published")["message_id"] == event_id
    assert _signers(_entry(copy, "published")) == [requester, publisher]
    at_gs = await notice_at(mesh, "gs", notice_id, "published")
    assert _signers(_entry(at_gs, "published")) == [requester, publisher]

    # The event carries the request byte for byte as the GS received it from France.
    received = await mesh.rows("gs", sa.select(tables.inbox.c.envelope).where(tables.inbox.c.message_id == notice_id))
    event = (await mesh.client("ncb.es").get(f"/v1/inbox/{event_id}")).json()
    assert event["body"]["request"] == carried(bytes(received[0].envelope))
    assert event["body"]["requesting_office"] == event["body"]["notice"]["requesting_office"] == "ncb.fr"


def _event(gs: FileSigner, request: NoticeRequest, *, notice_id: str, signed: bytes | None) -> bytes:
    now = SystemClock().now()
    body = NoticeEvent(
        event="published", notice_id=notice_id, notice_type=request.notice_type,
        requesting_office=request.requesting_office, notice=request, published_at=now,
        expires_at=now + timedelta(days=365), request=carried(signed) if signed is not None else None,  # type: ignore[arg-type]
    )  # fmt: skip
    return sealed(header("gs", ["ncb.es"], kind="notice-event"), body, gs)


def _altered(envelope: bytes) -> bytes:
    """The requester's envelope with one word of its signed payload changed (the signature stays)."""
    outer = carried(envelope)
    payload = base64.b64decode(outer["payload"]).replace(b"Wanted", b"Sought")
    outer["payload"] = base64.b64encode(payload).decode()

    return json.dumps(outer).encode()


async def _copy_held(mesh: TestMesh, office: str, notice_id: str) -> bool:
    n = tables.notices
    return bool(await mesh.scalar(office, sa.select(sa.func.count()).select_from(n).where(n.c.notice_id == notice_id)))


async def test_forged_notice_events_are_refused_with_their_reasons_and_the_consumer_goes_on(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.es")
    keys = mesh.root / "keys"
    gs, fr, de = signer_of(keys, "gs"), signer_of(keys, "ncb.fr"), signer_of(keys, "ncb.de")
    request = NoticeRequest(notice_type="red", title="Wanted", purpose="Locate and arrest", requesting_office="ncb.fr")
    notice_a, notice_b = new_message_id(SystemClock()), new_message_id(SystemClock())
    genuine_a = notice_request_envelope(fr, request, notice_id=notice_a)
    by_germany = notice_request_envelope(
        de, request.model_copy(update={"requesting_office": "ncb.de"}), notice_id=notice_a
    )
    cases: list[tuple[str, str, bytes, str]] = [
        ("missing-signer", subjects.notice("ncb.es"), _event(gs, request, notice_id=notice_a, signed=None),
         "no signed notice-request"),
        ("missing-signer", subjects.direct("ncb.fr", "ncb.es"),
         sealed(header("ncb.fr", ["ncb.es"], kind="notice-event"),
                NoticeEvent.model_validate_json(_body_of(_event(gs, request, notice_id=notice_a, signed=genuine_a))),
                fr),
         "General Secretariat's decision"),
        ("cosignature-mismatch", subjects.notice("ncb.es"), _event(gs, request, notice_id=notice_b, signed=genuine_a),
         f"the signed request is {notice_a}"),
        ("bad-cosignature", subjects.notice("ncb.es"), _event(gs, request, notice_id=notice_a, signed=by_germany),
         "belongs to ncb.de"),
        ("bad-cosignature", subjects.notice("ncb.es"),
         _event(gs, request, notice_id=notice_a, signed=_altered(genuine_a)), "does not verify"),
    ]  # fmt: skip
    notice_c = new_message_id(SystemClock())
    after = _event(gs, request, notice_id=notice_c, signed=notice_request_envelope(fr, request, notice_id=notice_c))
    gs_nc, fr_nc = await mesh.connect_as("gs"), await mesh.connect_as("ncb.fr")
    try:
        for i, (_, subject, data, _) in enumerate(cases):
            nc = fr_nc if subject.startswith("mesh.v1.direct") else gs_nc
            await nc.jetstream().publish(subject, data, headers={"Nats-Msg-Id": f"forged-{i}"})
        await gs_nc.jetstream().publish(subjects.notice("ncb.es"), after, headers={"Nats-Msg-Id": "genuine"})
    finally:
        await gs_nc.close()
        await fr_nc.close()

    await wait_until(lambda: _copy_held(mesh, "ncb.es", notice_c), what="the genuine notice after the forged ones")
    assert not await _copy_held(mesh, "ncb.es", notice_a) and not await _copy_held(mesh, "ncb.es", notice_b)
    quarantine = (await mesh.client("ncb.es").get("/v1/quarantine")).json()
    got = sorted((q["reason"], q["detail"]) for q in quarantine)
    assert [reason for reason, _ in got] == sorted(reason for reason, _, _, _ in cases)
    for reason, _, _, detail in cases:
        assert any(r == reason and detail in d for r, d in got), (reason, detail, got)
    audited = await mesh.rows(
        "ncb.es", sa.select(audit_log.c.result).where(audit_log.c.event == "rejected").order_by(audit_log.c.seq)
    )
    assert sorted(r.result for r in audited) == sorted(reason for reason, _, _, _ in cases)
    copy = (await mesh.client("ncb.es").get(f"/v1/notices/{notice_c}")).json()
    assert _signers(_entry(copy, "published")) == [("ncb.fr", fr.key_id, "requester"), ("gs", gs.key_id, "publisher")]


def _body_of(envelope: bytes) -> bytes:

    return json.dumps(json.loads(base64.b64decode(carried(envelope)["payload"]))["body"]).encode()
