"""The rejection reasons no other test reaches: each from a real signed envelope on the real bus.

`from-the-future`, `header-mismatch` and `unsupported-type` are refused by verification; the poison
path (`processing-failed`) is a verified message whose handler raises on every delivery. Each lands
in the recipient's quarantine with its reason, is audited, and the consumer goes on.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import MeshFactory
from envelopes import header, header_fields, message_body, sealed, signed_fields, signer_of
from interpol_mesh.audit.tables import audit_log
from interpol_mesh.bus import subjects
from interpol_mesh.clock import SystemClock
from interpol_mesh.crypto import FileSigner, pae
from interpol_mesh.directory import Office
from interpol_mesh.envelope import Verified
from interpol_mesh.messaging import OfficeRole, UnitOfWork, inbound
from interpol_mesh.natsd import NatsServer
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import Backend, TestMesh, wait_until
from interpol_offices.roles import role_for

TO_ES = ["ncb.es"]


def _unsupported(signer: FileSigner) -> bytes:
    """A well-formed envelope, properly signed, of a payload type the mesh does not know."""
    ptype = "application/vnd.interpol-mesh.wiretransfer.v1+json"
    payload = json.dumps({"header": header_fields("ncb.fr", TO_ES), "body": {"amount": 1}}).encode()
    sig = base64.b64encode(signer.sign(pae(ptype, payload))).decode()
    outer = {"payloadType": ptype, "payload": base64.b64encode(payload).decode(), "signatures": [
        {"keyid": signer.key_id, "sig": sig}
    ]}  # fmt: skip
    return json.dumps(outer).encode()


async def _accepted(mesh: TestMesh, office: str, text: str) -> bool:
    inbox = tables.inbox
    found = await mesh.scalar(
        office, sa.select(sa.func.count()).select_from(inbox).where(inbox.c.body["text"].as_string() == text)
    )
    return bool(found)


async def _audited_rejections(mesh: TestMesh, office: str) -> list[tuple[str, str | None]]:
    rows = await mesh.rows(
        office,
        sa.select(audit_log.c.result, audit_log.c.message_id)
        .where(audit_log.c.event == "rejected")
        .order_by(audit_log.c.seq),
    )
    return [(r.result, r.message_id) for r in rows]


async def test_future_mismatched_and_unknown_type_envelopes_are_quarantined_audited_and_passed(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.es")
    fr = signer_of(mesh.root / "keys", "ncb.fr")
    now = SystemClock().now()
    future = header("ncb.fr", TO_ES, created_at=now + timedelta(hours=1))
    posing_as_germany = header_fields("ncb.fr", TO_ES) | {"sender": "ncb.de"}  # signed by France, on its subject
    stranger = header_fields("ncb.fr", [*TO_ES, "ncb.zz"])
    cases: list[tuple[str, bytes, str]] = [
        ("from-the-future", sealed(future, message_body(), fr), "created "),
        (
            "header-mismatch",
            signed_fields(posing_as_germany, message_body().model_dump(), fr),
            "header says ncb.de/message",
        ),
        ("header-mismatch", signed_fields(stranger, message_body().model_dump(), fr), "'ncb.zz' is not an office"),
        ("unsupported-type", _unsupported(fr), "wiretransfer"),
    ]
    nc = await mesh.connect_as("ncb.fr")
    try:
        js = nc.jetstream()
        for i, (_, data, _) in enumerate(cases):
            await js.publish(subjects.direct("ncb.fr", "ncb.es"), data, headers={"Nats-Msg-Id": f"case-{i}"})
        after = sealed(header("ncb.fr", TO_ES), message_body("after the bad ones"), fr)
        await js.publish(subjects.direct("ncb.fr", "ncb.es"), after, headers={"Nats-Msg-Id": "after"})
    finally:
        await nc.close()

    await wait_until(lambda: _accepted(mesh, "ncb.es", "after the bad ones"), what="the valid message after them")
    quarantine = (await mesh.client("ncb.es").get("/v1/quarantine")).json()
    got = sorted((q["reason"], q["detail"]) for q in quarantine)
    assert [reason for reason, _ in got] == sorted(reason for reason, _, _ in cases)
    for reason, _, detail in cases:
        assert any(r == reason and detail in d for r, d in got), (reason, detail, got)
    audited = [result for result, _ in await _audited_rejections(mesh, "ncb.es")]
    assert sorted(audited) == sorted(reason for reason, _, _ in cases)
    signed_ids = {future.message_id, posing_as_germany["message_id"]}  # readable headers: the id is kept
    assert signed_ids <= {q["message_id"] for q in quarantine}


def _poisoning(role_for: Callable[[Office], OfficeRole], office_id: str) -> Callable[[Office], OfficeRole]:
    """`office_id`'s usual role, with a message handler that raises on any message titled POISON."""

    def build(office: Office) -> OfficeRole:
        role = role_for(office)
        if office.id != office_id:
            return role
        usual = role.handlers.get("message")

        async def poisoned(uow: UnitOfWork, verified: Verified) -> None:
            if getattr(verified.body, "title", None) == "POISON":
                raise RuntimeError("handler bug: cannot process this message")
            if usual is not None:
                await usual(uow, verified)

        role.handlers = {**role.handlers, "message": poisoned}
        return role

    return build


async def test_a_poison_message_is_retried_then_quarantined_and_the_consumer_goes_on(
    tmp_path: Path, nats_server: NatsServer, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real retry schedule waits 51 s before the last delivery; the count of attempts is what matters.
    monkeypatch.setattr(inbound, "NAK_BACKOFF_S", (0.05,) * len(inbound.NAK_BACKOFF_S))
    mesh = TestMesh(
        root=tmp_path / "mesh", nats_url=nats_server.url, backend=backend, role_for=_poisoning(role_for, "ncb.es")
    )
    try:
        await mesh.start("ncb.es")
        fr = signer_of(mesh.root / "keys", "ncb.fr")
        poison_header = header("ncb.fr", TO_ES)
        poison = sealed(poison_header, message_body().model_copy(update={"title": "POISON"}), fr)
        nc = await mesh.connect_as("ncb.fr")
        try:
            js = nc.jetstream()
            await js.publish(subjects.direct("ncb.fr", "ncb.es"), poison, headers={"Nats-Msg-Id": "poison"})
            during = sealed(header("ncb.fr", TO_ES), message_body("while the poison is retried"), fr)
            await js.publish(subjects.direct("ncb.fr", "ncb.es"), during, headers={"Nats-Msg-Id": "during"})
            await wait_until(
                lambda: _accepted(mesh, "ncb.es", "while the poison is retried"), what="a message behind the poison"
            )

            async def quarantined() -> list[dict[str, object]]:
                got = await mesh.client("ncb.es").get("/v1/quarantine", params={"reason": "processing-failed"})
                return list(got.json())

            [row] = await wait_until(quarantined, timeout=30, what="the poison message quarantined")
            assert row["message_id"] == poison_header.message_id
            assert f"after {inbound.MAX_ATTEMPTS} attempts" in str(row["detail"]), row
            assert "handler bug" in str(row["detail"])
            assert ("processing-failed", poison_header.message_id) in await _audited_rejections(mesh, "ncb.es")
            # The poison is not in the inbox (its transaction never committed), and later messages still arrive.
            assert not await mesh.scalar(
                "ncb.es", sa.select(sa.func.count()).select_from(tables.inbox).where(
                    tables.inbox.c.message_id == poison_header.message_id
                )
            )  # fmt: skip
            later = sealed(header("ncb.fr", TO_ES), message_body("after the quarantine"), fr)
            await js.publish(subjects.direct("ncb.fr", "ncb.es"), later, headers={"Nats-Msg-Id": "later"})
            await wait_until(lambda: _accepted(mesh, "ncb.es", "after the quarantine"), what="a message after it")
        finally:
            await nc.close()
    finally:
        await mesh.close()
