"""Crash safety with real processes: kill -9 a recipient mid-stream, or a sender before it publishes."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import sqlalchemy as sa

from conftest import MeshFactory
from interpol_mesh.messages import FreeTextMessage
from interpol_mesh.messaging import compose
from interpol_mesh.storage import make_engine, tables
from interpol_mesh.testing.harness import wait_until
from interpol_mesh.testing.plugin import OfficeSpawner

pytestmark = pytest.mark.slow


async def test_recipient_killed_mid_stream_holds_each_message_exactly_once(
    make_mesh: MeshFactory, office_processes: OfficeSpawner
) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.ar")
    spain = office_processes(mesh, "ncb.es")
    await asyncio.to_thread(spain.start)
    spain_db = make_engine(mesh.settings("ncb.es"))
    inbox = tables.inbox

    async def held() -> int:
        async with spain_db.connect() as conn:
            return int(
                (
                    await conn.execute(sa.select(sa.func.count()).select_from(inbox).where(inbox.c.kind == "message"))
                ).scalar_one()
            )

    try:
        ctx = mesh.ctx("ncb.ar")
        for batch in range(10):
            async with ctx.transaction() as uow:
                for i in range(100):
                    body = FreeTextMessage(title=f"msg {batch * 100 + i}", text="in flight " * 50)
                    await uow.send(compose(ctx, kind="message", recipients=["ncb.es"], body=body))

        async def some_held() -> int:
            return await held()

        await wait_until(some_held, what="ncb.es to commit its first messages")
        spain.kill9()
        at_kill = await held()
        assert at_kill < 1000, "the kill came too late to test anything"
        await asyncio.to_thread(spain.start)

        async def all_held() -> bool:
            return await held() == 1000

        await wait_until(all_held, timeout=60, what="all 1000 messages after restart")
        async with spain_db.connect() as conn:
            ids = (await conn.execute(sa.select(inbox.c.message_id).where(inbox.c.kind == "message"))).scalars().all()
            replays = (await conn.execute(sa.select(sa.func.count()).select_from(tables.quarantine))).scalar_one()
        assert len(ids) == len(set(ids)) == 1000
        assert replays == 0, "a redelivery after the crash must be a silent no-op, not a replay"

        async def all_delivered() -> bool:
            d = tables.delivery
            n = await mesh.scalar(
                "ncb.ar", sa.select(sa.func.count()).select_from(d).where(d.c.delivered_at.is_not(None))
            )
            return n == 1000

        await wait_until(all_delivered, timeout=60, what="1000 delivered receipts back at ncb.ar")
    finally:
        await spain_db.dispose()


async def test_sender_killed_before_publishing_publishes_after_restart(
    make_mesh: MeshFactory, office_processes: OfficeSpawner
) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.es")
    argentina = office_processes(mesh, "ncb.ar", RELAY_ENABLED="false")
    await asyncio.to_thread(argentina.start)
    async with httpx.AsyncClient(base_url=argentina.url, headers=argentina.staff_headers()) as client:
        accepted = await client.post(
            "/v1/messages", json={"recipients": ["ncb.es"], "body": {"title": "t", "text": "held"}}
        )
    assert accepted.status_code == 202, accepted.text
    mid = accepted.json()["message_id"]
    argentina.kill9()
    ar_db = make_engine(mesh.settings("ncb.ar"))
    try:
        async with ar_db.connect() as conn:
            pending = (
                await conn.execute(sa.select(tables.outbox.c.published_at).where(tables.outbox.c.message_id == mid))
            ).all()
        assert [p.published_at for p in pending] == [None], "accepted, stored, not yet published"
    finally:
        await ar_db.dispose()
    assert (
        await mesh.scalar("ncb.es", sa.select(tables.inbox.c.message_id).where(tables.inbox.c.message_id == mid))
        is None
    )

    argentina.extra_env["RELAY_ENABLED"] = "true"
    await asyncio.to_thread(argentina.start)

    async def held_once() -> bool:
        count = await mesh.scalar(
            "ncb.es", sa.select(sa.func.count()).select_from(tables.inbox).where(tables.inbox.c.message_id == mid)
        )
        return count == 1

    await wait_until(held_once, what="the message to arrive after the sender restarted")
