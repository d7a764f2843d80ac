"""Every bad envelope is refused with its own reason, quarantined with its bytes, and the consumer goes on."""

from __future__ import annotations

import os
from datetime import timedelta

import sqlalchemy as sa
from nacl.signing import SigningKey

from conftest import MeshFactory
from envelopes import LooseBody, header, message_body, of_size, sealed, short_signature, signer_of, tamper
from interpol_mesh.bus import subjects
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.clock import SystemClock
from interpol_mesh.crypto import FileSigner
from interpol_mesh.envelope import MAX_ENVELOPE_BYTES
from interpol_mesh.messaging.inbound import QUARANTINE_PREFIX_BYTES, UNREADABLE
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import wait_until


async def test_each_bad_envelope_is_quarantined_with_its_reason_and_the_consumer_carries_on(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.es")
    keys = mesh.root / "keys"
    fr, de, it = signer_of(keys, "ncb.fr"), signer_of(keys, "ncb.de"), signer_of(keys, "ncb.it")

    # Revoke Italy's key from now on, through the GS, and wait until Spain has the new directory.
    start_version = mesh.ctx("ncb.es").keyring.current.version
    before_revocation = SystemClock().now() - timedelta(minutes=1)
    revoked = await mesh.client("gs").post(f"/v1/keys/{it.key_id}/revoke", json={"reason": "test: key exposed"})
    assert revoked.status_code == 200, revoked.text

    async def spain_has_revocation() -> bool:
        return mesh.ctx("ncb.es").keyring.current.version > start_version

    await wait_until(spain_has_revocation, what="revocation to reach ncb.es")

    to_es = ["ncb.es"]
    first_valid = sealed(header("ncb.fr", to_es), message_body(), fr)
    stranger = FileSigner("ncb.fr/unlisted", "ncb.fr", SigningKey.generate())
    wrong_owner = FileSigner(de.key_id, "ncb.fr", de._key)  # envelope says ncb.fr, signed with ncb.de's key
    cases: list[tuple[str, str, bytes]] = [
        ("ncb.fr", "bad-signature", tamper(sealed(header("ncb.fr", to_es), message_body(), fr))),
        ("ncb.fr", "unknown-key", sealed(header("ncb.fr", to_es), message_body(), stranger)),
        ("ncb.it", "revoked-key", sealed(header("ncb.it", to_es), message_body(), it)),
        ("ncb.fr", "wrong-office-key", sealed(header("ncb.fr", to_es), message_body(), wrong_owner)),
        ("ncb.fr", "replay", first_valid),
        (
            "ncb.fr",
            "expired",
            sealed(header("ncb.fr", to_es, created_at=SystemClock().now() - timedelta(days=2)), message_body(), fr),
        ),
        ("ncb.fr", "schema-invalid", sealed(header("ncb.fr", to_es), LooseBody(title="no text field"), fr)),
        # Just over the receiver's limit: larger ones the server itself refuses (tests/test_bus_limits.py).
        ("ncb.fr", "oversized", of_size(header("ncb.fr", to_es), fr, MAX_ENVELOPE_BYTES + 1)),
        ("ncb.fr", "malformed", os.urandom(512)),
        ("ncb.fr", "malformed", b"[" * 100_000),  # deeply nested: must not crash the consumer
        ("ncb.fr", "bad-signature", short_signature(sealed(header("ncb.fr", to_es), message_body(), fr))),
        # A stolen, revoked key backdating its signing time: the server's storage time gives it away.
        ("ncb.it", "revoked-key", sealed(header("ncb.it", to_es, created_at=before_revocation), message_body(), it)),
        ("ncb.fr", "not-a-recipient", sealed(header("ncb.fr", ["ncb.pt"]), message_body(), fr)),
    ]
    last_valid = sealed(header("ncb.fr", to_es), message_body("still working"), fr)

    # A compromised office can publish anything on its own subjects; that is what is tested here.
    connections = {office: await mesh.connect_as(office) for office in ("ncb.fr", "ncb.it")}
    try:
        france = connections["ncb.fr"].jetstream()
        subject = subjects.direct("ncb.fr", "ncb.es")
        await france.publish(subject, first_valid, headers={"Nats-Msg-Id": "first"})
        for i, (sender, _reason, data) in enumerate(cases):
            js = connections[sender].jetstream()
            await js.publish(subjects.direct(sender, "ncb.es"), data, headers={"Nats-Msg-Id": f"case-{i}"})
        await france.publish(subject, last_valid, headers={"Nats-Msg-Id": "last"})
    finally:
        for nc in connections.values():
            await nc.close()

    inbox = tables.inbox

    async def last_accepted() -> bool:
        count = await mesh.scalar(
            "ncb.es", sa.select(sa.func.count()).select_from(inbox).where(inbox.c.kind == "message")
        )
        return count == 2

    await wait_until(last_accepted, what="the valid message after the bad ones")
    q = tables.quarantine
    rows = await mesh.rows("ncb.es", sa.select(q.c.reason, q.c.raw, q.c.raw_size).order_by(q.c.id))
    assert [r.reason for r in rows] == [reason for _, reason, _ in cases]
    # Envelopes are kept whole as evidence; what is not an envelope at all, only as a prefix.
    kept = [data[:QUARANTINE_PREFIX_BYTES] if reason in UNREADABLE else data for _, reason, data in cases]
    assert [r.raw for r in rows] == kept
    assert [r.raw_size for r in rows] == [len(data) for _, _, data in cases]
    quarantine = (await mesh.client("ncb.es").get("/v1/quarantine", params={"reason": "revoked-key"})).json()
    assert len(quarantine) == 2 and all("ncb.it" in q["detail"] for q in quarantine)
    assert any("revoked before the bus stored" in q["detail"] for q in quarantine), "backdating is caught"
    counts = mesh.ctx("ncb.es").consumer.counts  # type: ignore[union-attr]
    assert counts["rejected:bad-signature"] == 2 and counts["rejected:malformed"] == 2 and counts["accepted"] >= 2


async def test_an_unknown_key_is_held_not_quarantined_while_the_key_directory_cannot_be_read(
    make_mesh: MeshFactory,
) -> None:
    """A key the receiver has not heard of may be brand new: it is called unknown only after the
    latest key directory was read. Until then the message goes back to the server, and the rest
    of the inbox flows."""
    mesh = make_mesh()
    await mesh.start("ncb.es")
    admin = await mesh.connect_as(ADMIN_USER)
    france = await mesh.connect_as("ncb.fr")
    try:
        await admin.jetstream().delete_stream(subjects.KEYS_STREAM)  # the directory can no longer be read
        fr = signer_of(mesh.root / "keys", "ncb.fr")
        new_key = FileSigner("ncb.fr/not-yet-listed", "ncb.fr", SigningKey.generate())
        held = sealed(header("ncb.fr", ["ncb.es"]), message_body("signed with a key not in any directory"), new_key)
        js = france.jetstream()
        await js.publish(subjects.direct("ncb.fr", "ncb.es"), held, headers={"Nats-Msg-Id": "held"})
        await js.publish(
            subjects.direct("ncb.fr", "ncb.es"), sealed(header("ncb.fr", ["ncb.es"]), message_body(), fr),
            headers={"Nats-Msg-Id": "valid"},
        )  # fmt: skip
        consumer = mesh.ctx("ncb.es").consumer
        assert consumer is not None

        async def valid_accepted_and_unknown_held() -> bool:
            return consumer.counts["accepted"] == 1 and consumer.counts["held:unknown-key"] >= 2

        await wait_until(valid_accepted_and_unknown_held, what="the valid message accepted, the other held twice")
        assert await mesh.scalar("ncb.es", sa.select(sa.func.count()).select_from(tables.quarantine)) == 0

        # The directory is back on the bus (the GS republishes it): now the key is known to be unknown.
        await mesh.provision()
        kd = tables.key_directory
        signed = await mesh.scalar("ncb.es", sa.select(kd.c.signed).order_by(kd.c.version.desc()).limit(1))
        gs = await mesh.connect_as("gs")
        try:
            await gs.jetstream().publish(subjects.KEY_DIRECTORY_SUBJECT, signed)
        finally:
            await gs.close()

        async def quarantined() -> list[str]:
            return [r.reason for r in await mesh.rows("ncb.es", sa.select(tables.quarantine.c.reason))]

        assert await wait_until(quarantined, what="the held message quarantined once the directory is readable") == [
            "unknown-key"
        ]
    finally:
        await france.close()
        await admin.close()
