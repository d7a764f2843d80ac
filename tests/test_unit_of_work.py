"""One unit of work: a message sent, received, acknowledged and audited through it, on both backends.

And what it promises when it does not commit: no audit event, no outbox row, no hand-off to the
relay, no after-commit callback; callbacks of a unit of work that commits run only after it did.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from conftest import MeshFactory
from interpol_mesh.audit import AuditEvent, read_snapshot, verify_chain
from interpol_mesh.audit.tables import audit_log
from interpol_mesh.messages import FreeTextMessage
from interpol_mesh.messaging import compose
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until

MESSAGE = {"recipients": ["ncb.es"], "language": "es", "body": {"title": "Consulta", "text": "Vehículo robado."}}


async def _audit(mesh: TestMesh, office: str) -> list[tuple[str, str | None, str]]:
    rows = await mesh.rows(office, sa.select(audit_log).order_by(audit_log.c.seq))
    return [(r.event, r.message_id, r.result) for r in rows]


async def _chain_verifies(mesh: TestMesh, office: str) -> bool:
    ctx = mesh.ctx(office)
    async with read_snapshot(ctx.engine) as conn:
        report = await verify_chain(conn, office, ctx.keyring.current)
    return report.ok and report.records > 0


async def test_a_message_is_sent_received_acknowledged_and_audited_through_one_unit_of_work(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.ar", "ncb.es")
    accepted = await mesh.client("ncb.ar").post("/v1/messages", json=MESSAGE)
    assert accepted.status_code == 202, accepted.text
    mid, digest = accepted.json()["message_id"], accepted.json()["digest_sha256"]
    d = tables.delivery

    async def delivery() -> Any:
        return (await mesh.rows("ncb.ar", sa.select(d).where(d.c.message_id == mid)))[0]

    async def delivered() -> bool:
        return (await delivery()).delivered_at is not None

    await wait_until(delivered, what="the delivered receipt from ncb.es")
    # The verification record names the key directory version that verified the message.
    one = (await mesh.client("ncb.es").get(f"/v1/inbox/{mid}")).json()
    version = mesh.ctx("ncb.es").keyring.current.version
    assert one["verification"]["key_directory_version"] == version
    i = tables.inbox
    assert await mesh.scalar("ncb.es", sa.select(i.c.directory_version).where(i.c.message_id == mid)) == version
    # The inbox view reports the recorded version, not the one current when it is read: a message
    # verified under an earlier directory keeps naming that one after a rotation.
    async with mesh.ctx("ncb.es").engine.begin() as conn:
        await conn.execute(sa.update(i).where(i.c.message_id == mid).values(directory_version=version + 7))
    again = (await mesh.client("ncb.es").get(f"/v1/inbox/{mid}")).json()
    assert again["verification"]["key_directory_version"] == version + 7

    assert (await mesh.client("ncb.es").post(f"/v1/inbox/{mid}/acknowledge")).status_code == 200

    async def acknowledged() -> bool:
        return (await delivery()).acknowledged_at is not None

    await wait_until(acknowledged, what="the acknowledged receipt from ncb.es")
    row = await delivery()
    assert (row.recipient, row.delivered_at is not None) == ("ncb.es", True)

    # Both receipts, built the one way: to the sender, for the message, with its digest.
    s = tables.sent
    receipts = await mesh.rows("ncb.es", sa.select(s).where(s.c.kind == "receipt", s.c.correlation_id == mid))
    assert len(receipts) == 2 and all(r.recipients == ["ncb.ar"] for r in receipts)
    receipt_ids = {r.message_id for r in receipts}

    sender = await _audit(mesh, "ncb.ar")
    assert ("envelope-sent", mid, "sent") in sender
    assert {m for e, m, _ in sender if e == "envelope-received"} >= receipt_ids  # delivered and acknowledged
    recipient = await _audit(mesh, "ncb.es")
    assert ("envelope-received", mid, "accepted") in recipient
    assert ("acknowledged", mid, "acknowledged") in recipient
    assert {m for e, m, _ in recipient if e == "envelope-sent"} >= receipt_ids
    received = await mesh.rows(
        "ncb.es",
        sa.select(audit_log.c.digest).where(audit_log.c.message_id == mid, audit_log.c.event != "envelope-sent"),
    )
    assert {r.digest for r in received} == {digest}
    assert await _chain_verifies(mesh, "ncb.ar") and await _chain_verifies(mesh, "ncb.es")


async def test_nothing_of_a_failed_unit_of_work_is_kept_and_callbacks_run_only_after_commit(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.ar", "ncb.es")
    ctx = mesh.ctx("ncb.ar")

    async def counts() -> tuple[int, int, int]:
        n = [
            await mesh.scalar("ncb.ar", sa.select(sa.func.count()).select_from(table))
            for table in (audit_log, tables.outbox, tables.sent)
        ]
        return n[0], n[1], n[2]

    before = await counts()
    ran: list[str] = []
    with pytest.raises(RuntimeError, match="the handler failed"):
        async with ctx.transaction() as uow:
            uow.audit(AuditEvent(event="test", result="kept-only-on-commit"))
            body = FreeTextMessage(title="rolled back", text="x")
            await uow.send(compose(ctx, kind="message", recipients=["ncb.es"], body=body))
            assert len(uow.outbox) == 1  # written in this transaction, waiting for the commit
            uow.after_commit(lambda: ran.append("rolled back"))
            raise RuntimeError("the handler failed")
    assert await counts() == before
    assert ran == []
    with pytest.raises(RuntimeError, match="has ended"):
        uow.audit(AuditEvent(event="test", result="too-late"))

    closed_when_run: list[bool] = []
    async with ctx.transaction() as uow:
        await uow.send(
            compose(ctx, kind="message", recipients=["ncb.es"], body=FreeTextMessage(title="kept", text="x"))
        )
        uow.after_commit(lambda: closed_when_run.append(uow.conn.closed))
        assert closed_when_run == []  # not before the commit
    assert closed_when_run == [True]  # once the transaction had ended
    assert await counts() == (before[0] + 1, before[1] + 1, before[2] + 1)

    # Barrier: the committed message went through the same relay and subject after anything the
    # failed unit of work could have handed off; once it is in, nothing else arrived before it.
    i = tables.inbox

    async def arrived() -> list[Any]:
        return await mesh.rows("ncb.es", sa.select(i.c.body).where(i.c.kind == "message"))

    titles = [r.body["title"] for r in await wait_until(arrived, what="the committed message at ncb.es")]
    assert titles == ["kept"]
