"""The bus cannot be filled: subjects only to real offices, a size limit, and a cap per sender->recipient.

Each test drives a real, secured nats-server as an insider holding one office's credentials.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import APIError, NotFoundError

from conftest import MeshFactory
from envelopes import header, message_body, of_size, sealed, signer_of
from interpol_mesh.bus import subjects
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.bus.streams import (
    DIRECT_MAX_AGE_S,
    DIRECT_MAX_MSG_BYTES,
    DIRECT_MAX_PER_SUBJECT,
    LEGACY_DIRECT_STREAM,
    StreamPlan,
    direct_stream,
    direct_stream_name,
)
from interpol_mesh.bus.topology import provision_topology
from interpol_mesh.clock import SystemClock
from interpol_mesh.directory import load_directory
from interpol_mesh.envelope import MAX_ENVELOPE_BYTES
from interpol_mesh.errors import ConfigError
from interpol_mesh.messaging.inbound import QUARANTINE_PREFIX_BYTES
from interpol_mesh.natsd import NatsServer
from interpol_mesh.provision import Deployment
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import make_engine, tables
from interpol_mesh.storage.engine import ensure_schema, schema_for
from interpol_mesh.storage.migrate import alembic_config, migrate
from interpol_mesh.testing.harness import Backend, wait_until
from test_bus_permissions import Refusals, connect_as, refused

SUBJECT_FULL = 10077  # JetStream: maximum messages per subject exceeded
MSG_TOO_LARGE = 10054  # JetStream: message size exceeds maximum allowed


async def test_an_office_cannot_publish_to_a_recipient_that_does_not_exist(
    nats_server: NatsServer, mesh_deployment: Deployment
) -> None:
    refusals = Refusals()
    france = await connect_as(nats_server, mesh_deployment, "ncb.fr", refusals)
    gs = await connect_as(nats_server, mesh_deployment, "gs", refusals)
    admin = await connect_as(nats_server, mesh_deployment, ADMIN_USER, Refusals())
    try:
        nowhere = [f"{subjects.PREFIX}.direct.ncb_fr.ncb_zz", f"{subjects.PREFIX}.direct.ncb_fr.anything"]
        for subject in nowhere:
            await france.publish(subject, b"x" * 1000)
            await refused(refusals, subject)
        await gs.publish(subjects.notice("ncb.zz"), b"a notice to nobody")
        await refused(refusals, subjects.notice("ncb.zz"))
        # A real recipient still works, as a control (and as a barrier: the refused ones came first).
        assert (await france.jetstream().publish(subjects.direct("ncb.fr", "ncb.es"), b"to Spain")).seq >= 1
        js = admin.jetstream()
        for subject in [*nowhere, subjects.notice("ncb.zz")]:
            with pytest.raises(NotFoundError):
                await js.get_last_msg(direct_stream_name("emea"), subject)
    finally:
        for nc in (france, gs, admin):
            await nc.close()


async def test_a_publish_over_the_size_limit_is_refused_by_the_server(
    nats_server: NatsServer, mesh_deployment: Deployment
) -> None:
    france = await connect_as(nats_server, mesh_deployment, "ncb.fr", Refusals())
    try:
        js = france.jetstream()
        with pytest.raises(APIError) as refusal:
            await js.publish(subjects.direct("ncb.fr", "ncb.es"), b"x" * (DIRECT_MAX_MSG_BYTES + 1))
        assert refusal.value.err_code == MSG_TOO_LARGE
        # The largest envelope a receiver accepts, with its headers, still fits.
        assert (await js.publish(subjects.direct("ncb.fr", "ncb.es"), b"x" * MAX_ENVELOPE_BYTES, headers={
            "Nats-Msg-Id": "m" * 64})).seq >= 1  # fmt: skip
    finally:
        await france.close()


async def test_a_flood_stops_at_the_cap_for_its_pair_and_others_still_get_in(make_mesh: MeshFactory) -> None:
    """Spain's office is down; France floods it. The server keeps France's first messages up to the
    cap and refuses the rest (nothing stored is dropped), Germany's message to Spain still gets in,
    and once Spain is back it receives everything stored, after which France may send again."""
    mesh = make_mesh()
    await mesh.provision()  # ncb.es's consumer exists, but nobody pulls from it
    keys = mesh.root / "keys"
    fr, de = signer_of(keys, "ncb.fr"), signer_of(keys, "ncb.de")
    flood = [
        sealed(header("ncb.fr", ["ncb.es"]), message_body(f"flood {i}"), fr) for i in range(DIRECT_MAX_PER_SUBJECT + 5)
    ]
    france, germany = await mesh.connect_as("ncb.fr"), await mesh.connect_as("ncb.de")
    try:
        js = france.jetstream()
        refused_at: list[int] = []
        for i, data in enumerate(flood):
            try:
                await js.publish(subjects.direct("ncb.fr", "ncb.es"), data, headers={"Nats-Msg-Id": f"flood-{i}"})
            except APIError as exc:
                assert exc.err_code == SUBJECT_FULL, exc
                refused_at.append(i)
        assert refused_at == list(range(DIRECT_MAX_PER_SUBJECT, len(flood)))
        other = sealed(header("ncb.de", ["ncb.es"]), message_body("from Germany"), de)
        await germany.jetstream().publish(subjects.direct("ncb.de", "ncb.es"), other, headers={"Nats-Msg-Id": "de"})

        await mesh.start("ncb.es")
        inbox = tables.inbox

        async def received(count: int) -> bool:
            return await mesh.scalar("ncb.es", sa.select(sa.func.count()).select_from(inbox)) == count

        await wait_until(lambda: received(DIRECT_MAX_PER_SUBJECT + 1), what="the stored flood and Germany's message")
        # Acked messages leave the stream, so the pair has room again: France's relay would retry now.
        for i in refused_at:
            await js.publish(subjects.direct("ncb.fr", "ncb.es"), flood[i], headers={"Nats-Msg-Id": f"flood-{i}"})
        await wait_until(lambda: received(len(flood) + 1), what="the refused part of the flood, sent again")
        assert await mesh.scalar("ncb.es", sa.select(sa.func.count()).select_from(tables.quarantine)) == 0
    finally:
        await france.close()
        await germany.close()


async def test_the_relay_keeps_a_refused_row_and_sends_it_once_the_pair_has_room(make_mesh: MeshFactory) -> None:
    """A full subject is a publish error for the sender's relay: the row stays in its outbox, the relay
    goes on (retrying with a delay, not in a loop), and the message arrives once the recipient drains."""
    mesh = make_mesh()
    await mesh.start("ncb.fr")
    france = await mesh.connect_as("ncb.fr")
    try:
        js = france.jetstream()
        for i in range(DIRECT_MAX_PER_SUBJECT):  # an insider's junk fills France->Spain while Spain is down
            await js.publish(subjects.direct("ncb.fr", "ncb.es"), b"junk", headers={"Nats-Msg-Id": f"junk-{i}"})
    finally:
        await france.close()
    sent = await mesh.client("ncb.fr").post(
        "/v1/messages", json={"recipients": ["ncb.es"], "body": {"title": "Request", "text": "after the junk"}}
    )
    assert sent.status_code == 202, sent.text
    relay = mesh.ctx("ncb.fr").relay
    assert relay is not None

    async def refused_by_the_server() -> bool:
        return "maximum messages per subject" in (relay.last_error or "")

    await wait_until(refused_by_the_server, what="the relay to see the full subject")
    outbox = tables.outbox
    pending = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    assert await mesh.scalar("ncb.fr", pending) == 1

    await mesh.start("ncb.es")
    message_id = sent.json()["message_id"]

    async def delivered() -> bool:
        return await mesh.scalar("ncb.es", sa.select(tables.inbox.c.message_id).where(
            tables.inbox.c.message_id == message_id)) is not None  # fmt: skip

    await wait_until(delivered, timeout=30, what="the refused message once Spain drained its inbox")
    assert await mesh.scalar("ncb.fr", pending) == 0
    quarantined = await mesh.scalar("ncb.es", sa.select(sa.func.count()).select_from(tables.quarantine))
    assert quarantined == DIRECT_MAX_PER_SUBJECT  # the junk, each refused as malformed


async def test_unreadable_junk_is_quarantined_as_a_prefix_with_its_size_and_digest(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.es")
    fr = signer_of(mesh.root / "keys", "ncb.fr")
    junk = [bytes([i]) * 200_000 for i in range(50)]  # malformed, under the server's limit
    oversized = of_size(header("ncb.fr", ["ncb.es"]), fr, MAX_ENVELOPE_BYTES + 1)  # an envelope, but too large
    barrier = sealed(header("ncb.fr", ["ncb.es"]), message_body("after the junk"), fr)
    france = await mesh.connect_as("ncb.fr")
    try:
        js = france.jetstream()
        for i, data in enumerate([*junk, oversized, barrier]):
            await js.publish(subjects.direct("ncb.fr", "ncb.es"), data, headers={"Nats-Msg-Id": f"in-{i}"})
    finally:
        await france.close()

    async def barrier_in() -> bool:
        return await mesh.scalar("ncb.es", sa.select(sa.func.count()).select_from(tables.inbox)) == 1

    await wait_until(barrier_in, what="the valid message after the junk")
    q = tables.quarantine
    rows = await mesh.rows("ncb.es", sa.select(q.c.reason, q.c.raw, q.c.raw_size, q.c.raw_sha256).order_by(q.c.id))
    assert [r.reason for r in rows] == ["malformed"] * len(junk) + ["oversized"]
    for row, data in zip(rows, [*junk, oversized], strict=True):
        assert bytes(row.raw) == data[:QUARANTINE_PREFIX_BYTES]
        assert row.raw_size == len(data) and row.raw_sha256 == hashlib.sha256(data).hexdigest()
    stored = await mesh.scalar("ncb.es", sa.select(sa.func.sum(sa.func.length(q.c.raw))))
    assert stored == (len(junk) + 1) * QUARANTINE_PREFIX_BYTES  # instead of 10 MB

    client = mesh.client("ncb.es")
    listed = (await client.get("/v1/quarantine", params={"reason": "oversized"})).json()
    assert len(listed) == 1 and listed[0]["truncated"] is True
    assert listed[0]["size_bytes"] == len(oversized) and listed[0]["stored_bytes"] == QUARANTINE_PREFIX_BYTES
    assert listed[0]["sha256"] == hashlib.sha256(oversized).hexdigest()
    summary = (await client.get("/v1/quarantine/summary")).json()
    assert summary == {"total": 51, "by_reason": {"malformed": 50, "oversized": 1}, "stored_bytes": stored}


async def test_a_store_from_before_the_regional_streams_is_retired_or_refused_in_one_line(
    nats_server: NatsServer, mesh_deployment: Deployment
) -> None:
    """`up` on an existing var/: the single MESH_DIRECT of older versions overlaps the regional
    streams. Empty, it is removed; still holding messages, the start stops and says how to drain it.
    A regional stream the server cannot convert names the fix."""
    admin = await connect_as(nats_server, mesh_deployment, ADMIN_USER, Refusals())
    directory = load_directory()
    plan = StreamPlan(directory)
    try:
        js = admin.jetstream()
        for region in ("americas", "emea", "apac"):
            await js.delete_stream(direct_stream_name(region))
        old = StreamConfig(name=LEGACY_DIRECT_STREAM, subjects=[f"{subjects.PREFIX}.direct.>", f"{subjects.PREFIX}.notice.>"],
                           storage=StorageType.FILE, retention=RetentionPolicy.LIMITS, max_age=DIRECT_MAX_AGE_S)  # fmt: skip
        await js.add_stream(old)
        for i in range(3):
            await js.publish(subjects.direct("ncb.fr", "ncb.es"), b"old", headers={"Nats-Msg-Id": f"old-{i}"})
        with pytest.raises(ConfigError, match=r"MESH_DIRECT .*still holds 3 message\(s\).*drain it"):
            await provision_topology(js, plan)

        with pytest.raises(APIError):  # sealed: an office of the old version can no longer get a message into it
            await js.publish(subjects.direct("ncb.fr", "ncb.es"), b"late", headers={"Nats-Msg-Id": "late"})
        await js.delete_stream(LEGACY_DIRECT_STREAM)  # (a sealed stream cannot be purged): drained, as if
        await js.add_stream(old)  # its consumers had taken everything
        await provision_topology(js, plan)
        with pytest.raises(NotFoundError):
            await js.stream_info(LEGACY_DIRECT_STREAM)
        info = await js.stream_info(plan.inbox_stream("ncb.es"))
        assert info.config.retention == RetentionPolicy.INTEREST
        assert info.config.max_msgs_per_subject == DIRECT_MAX_PER_SUBJECT and info.config.discard_new_per_subject

        emea = direct_stream(directory, "emea")
        await js.delete_stream(direct_stream_name("emea"))
        await js.add_stream(dataclasses.replace(emea, retention=RetentionPolicy.WORK_QUEUE))
        with pytest.raises(ConfigError, match=r"MESH_DIRECT_EMEA .*nats stream rm MESH_DIRECT_EMEA"):
            await provision_topology(js, plan)
    finally:
        await admin.close()


async def test_the_migration_sizes_digests_and_cuts_the_junk_already_quarantined(
    backend: Backend, tmp_path: Path
) -> None:
    settings = OfficeSettings(office_id="ncb.es", database_url=backend.database_url,
                              db_schema_prefix=backend.schema_prefix, data_dir=tmp_path, database_pool_size=2)  # fmt: skip
    engine = make_engine(settings)
    junk, evidence = b"\x00" * 100_000, b"{" + b"e" * 30_000 + b"}"
    try:
        await ensure_schema(engine, schema_for("ncb.es", settings.db_schema_prefix))
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0001"))
            old = sa.table("quarantine", *(sa.column(n) for n in ("received_at", "subject", "reason", "detail", "raw")))
            now = SystemClock().now()
            await conn.execute(old.insert(), [
                {"received_at": now, "subject": "s", "reason": "malformed", "detail": "d", "raw": junk},
                {"received_at": now, "subject": "s", "reason": "bad-signature", "detail": "d", "raw": evidence},
            ])  # fmt: skip
        await migrate(engine, "ncb.es", settings.db_schema_prefix)
        q = tables.quarantine
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(q.c.raw, q.c.raw_size, q.c.raw_sha256).order_by(q.c.id))).all()

            def diff(sync_conn: sa.Connection) -> list[Any]:
                found = compare_metadata(MigrationContext.configure(sync_conn), tables.metadata)
                return [d for d in found if "quarantine" in repr(d)]

            assert await conn.run_sync(diff) == []
        assert [(bytes(r.raw), r.raw_size, r.raw_sha256) for r in rows] == [
            (junk[:QUARANTINE_PREFIX_BYTES], len(junk), hashlib.sha256(junk).hexdigest()),
            (evidence, len(evidence), hashlib.sha256(evidence).hexdigest()),
        ]
    finally:
        await engine.dispose()
