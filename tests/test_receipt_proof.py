"""A receipt is proof of delivery only if it proves it: a refused one shows where the sender looks.

A receipt whose digest is not that of the envelope sent (signed by the real recipient's key, so the
signature is good) is refused as `receipt-mismatch`, counts as neither delivered nor acknowledged,
and is listed under that recipient in GET /v1/sent/{id} with its reason; the genuine receipt after
it still counts. The migrations that carry this (quarantine_0003) and the verification record of
ignored fields (inbox_0004) match tables.py on both backends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from conftest import MeshFactory
from envelopes import header, sealed, signer_of
from interpol_mesh.bus import subjects
from interpol_mesh.clock import SystemClock
from interpol_mesh.crypto import FileSigner
from interpol_mesh.messages import Receipt
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import make_engine, tables
from interpol_mesh.storage.engine import ensure_schema, schema_for
from interpol_mesh.storage.migrate import alembic_config, migrate
from interpol_mesh.testing.harness import Backend, TestMesh, wait_until


def _receipt(signer: FileSigner, kind: str, for_message_id: str, digest: str, at: datetime) -> tuple[str, bytes]:
    body = Receipt(receipt_type=kind, for_message_id=for_message_id, digest=digest, at=at)  # type: ignore[arg-type]
    h = header(signer.office_id, ["ncb.ar"], kind="receipt")
    return h.message_id, sealed(h, body, signer)


async def _publish(mesh: TestMesh, sender: str, data: bytes, msg_id: str) -> None:
    nc = await mesh.connect_as(sender)
    try:
        await nc.jetstream().publish(subjects.direct(sender, "ncb.ar"), data, headers={"Nats-Msg-Id": msg_id})
    finally:
        await nc.close()


async def test_a_receipt_with_a_wrong_digest_is_refused_not_delivered_and_shown_in_sent_status(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.ar")  # ncb.br is not running: every receipt it "sends" below is the test's
    message = {"recipients": ["ncb.br"], "body": {"title": "Consulta", "text": "Confirmar el vehículo AB123CD."}}
    accepted = await mesh.client("ncb.ar").post("/v1/messages", json=message)
    assert accepted.status_code == 202, accepted.text
    mid, digest = accepted.json()["message_id"], accepted.json()["digest_sha256"]
    keys = mesh.root / "keys"
    br, de = signer_of(keys, "ncb.br"), signer_of(keys, "ncb.de")
    now = SystemClock().now()
    wrong = "0" * 64
    forged = [
        _receipt(br, "delivered", mid, wrong, now),
        _receipt(br, "acknowledged", mid, wrong, now),
        _receipt(de, "delivered", mid, digest, now),  # right digest, but ncb.de was never sent it
    ]
    for i, (_, data) in enumerate(forged):
        await _publish(mesh, "ncb.de" if i == 2 else "ncb.br", data, f"forged-{i}")

    q = tables.quarantine

    async def refused_all() -> bool:
        rows = await mesh.rows("ncb.ar", sa.select(q.c.reason))
        return [r.reason for r in rows] == ["receipt-mismatch"] * len(forged)

    await wait_until(refused_all, what="the forged receipts quarantined")
    status = (await mesh.client("ncb.ar").get(f"/v1/sent/{mid}")).json()
    [brazil] = status["recipients"]
    assert brazil["recipient"] == "ncb.br"
    assert brazil["delivered_at"] is None and brazil["acknowledged_at"] is None, "a refused receipt proves nothing"
    shown = [(r["receipt_message_id"], r["sender"], r["receipt_type"], r["reason"]) for r in brazil["refused_receipts"]]
    assert shown == [
        (forged[0][0], "ncb.br", "delivered", "receipt-mismatch"),
        (forged[1][0], "ncb.br", "acknowledged", "receipt-mismatch"),
    ]
    assert all("is not that of the envelope sent" in r["detail"] for r in brazil["refused_receipts"])
    assert all(r["received_at"] for r in brazil["refused_receipts"])
    [other] = status["refused_receipts_from_others"]
    assert (other["sender"], other["receipt_message_id"]) == ("ncb.de", forged[2][0])
    assert "ncb.de is not a recipient" in other["detail"]
    about = await mesh.rows("ncb.ar", sa.select(q.c.about_message_id))
    assert {r.about_message_id for r in about} == {mid}

    # The genuine receipt (right digest, right signer) still counts, and the refused ones stay listed.
    _, genuine = _receipt(br, "delivered", mid, digest, now + timedelta(seconds=1))
    await _publish(mesh, "ncb.br", genuine, "genuine")

    async def delivered() -> Any:
        got = (await mesh.client("ncb.ar").get(f"/v1/sent/{mid}")).json()["recipients"][0]
        return got if got["delivered_at"] is not None else None

    after = await wait_until(delivered, what="the genuine delivered receipt counted")
    assert after["acknowledged_at"] is None and len(after["refused_receipts"]) == 2


async def test_the_new_migrations_match_the_tables(backend: Backend, tmp_path: Path) -> None:
    """From the revisions before them, with a row of each table in place, to exactly tables.py."""
    settings = OfficeSettings(office_id="ncb.es", database_url=backend.database_url,
                              db_schema_prefix=backend.schema_prefix, data_dir=tmp_path, database_pool_size=2)  # fmt: skip
    engine = make_engine(settings)
    try:
        await ensure_schema(engine, schema_for("ncb.es", settings.db_schema_prefix))
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "quarantine_0002"))
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "inbox_0003"))
            old = sa.table("quarantine", *(sa.column(n) for n in (
                "received_at", "subject", "reason", "detail", "raw", "raw_size", "raw_sha256")))  # fmt: skip
            await conn.execute(old.insert(), [{"received_at": SystemClock().now(), "subject": "s", "reason": "replay",
                                               "detail": "d", "raw": b"{}", "raw_size": 2, "raw_sha256": "0" * 64}])  # fmt: skip
        await migrate(engine, "ncb.es", settings.db_schema_prefix)
        async with engine.connect() as conn:

            def diff(sync_conn: sa.Connection) -> list[Any]:
                found = compare_metadata(MigrationContext.configure(sync_conn), tables.metadata)
                return [d for d in found if "quarantine" in repr(d) or "inbox" in repr(d)]

            assert await conn.run_sync(diff) == []
            q = tables.quarantine
            assert (await conn.execute(sa.select(q.c.about_message_id))).scalars().all() == [None]
    finally:
        await engine.dispose()
