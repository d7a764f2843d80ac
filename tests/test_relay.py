"""The outbox relay: committed rows reach the bus, and a row the server refuses holds back nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from conftest import MeshFactory
from interpol_mesh.bus import subjects
from interpol_mesh.messages import FreeTextMessage
from interpol_mesh.messaging import compose
from interpol_mesh.storage import tables, writing
from interpol_mesh.testing.harness import wait_until


async def test_a_row_the_server_refuses_stays_unpublished_and_the_rows_after_it_still_go(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.ar", "ncb.es")
    ctx = mesh.ctx("ncb.ar")
    o = tables.outbox
    # A row on a subject naming another sender: the server's permissions refuse it every time.
    async with writing(ctx.engine) as conn:
        await conn.execute(
            o.insert().values(
                message_id="forged", subject=subjects.direct("ncb.br", "ncb.es"), dedupe_id="forged:1",
                data=b"{}", created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    assert ctx.relay is not None
    ctx.relay.wake()  # rows written outside ctx.transaction() are found by the sweep

    async def refused() -> bool:
        return ctx.relay is not None and ctx.relay.last_error is not None

    await wait_until(refused, what="the relay to report the refused row")

    outs = [
        compose(ctx, kind="message", recipients=["ncb.es"], body=FreeTextMessage(title=f"{i}", text="x"))
        for i in range(3)
    ]
    async with ctx.transaction() as uow:
        await uow.send(*outs)

    async def delivered() -> bool:
        n = await mesh.scalar("ncb.es", sa.select(sa.func.count()).select_from(tables.inbox))
        return bool(n == 3)

    await wait_until(delivered, what="the three messages committed after the refused row")
    pending = await mesh.rows("ncb.ar", sa.select(o.c.dedupe_id).where(o.c.published_at.is_(None)))
    assert [r.dedupe_id for r in pending] == ["forged:1"]
