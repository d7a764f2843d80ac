"""The CCC process is killed (-9) with deadlines pending and restarted after one has passed: that
escalation fires exactly once, also across a second kill and restart.

The CCC runs as a real process whose clock is frozen (FROZEN_TIME): restarting it with a later
frozen time is how time passes while it is down, without sleeping.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from ccc_support import message, send_to_ccc
from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.storage import make_engine
from interpol_mesh.testing.harness import wait_until
from interpol_mesh.testing.plugin import OfficeSpawner
from interpol_offices.ccc_router import tables as t

pytestmark = pytest.mark.slow
TUESDAY_0300 = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)


async def test_killed_ccc_fires_an_overdue_escalation_exactly_once(
    make_mesh: MeshFactory, office_processes: OfficeSpawner
) -> None:
    mesh = make_mesh(clock=FakeClock(TUESDAY_0300))
    await mesh.start("ncb.eg")
    ccc = office_processes(mesh, "ccc", FROZEN_TIME=TUESDAY_0300.isoformat())
    await asyncio.to_thread(ccc.start)
    db = make_engine(mesh.settings("ccc"))

    async def rows(query: sa.Select[Any]) -> list[Any]:
        async with db.connect() as conn:
            return list((await conn.execute(query)).all())

    try:
        mid = await send_to_ccc(
            mesh, "ncb.eg", message("بلاغ عاجل", "تم توقيف المشتبه به في مطار القاهرة ونطلب تأكيد النشرة فورا."),
            kind="message", language="ar-EG", priority="critical",
        )  # fmt: skip

        async def case() -> list[Any]:
            return await rows(sa.select(t.cases.c.case_id).where(t.cases.c.message_id == mid))

        case_id = (await wait_until(case, timeout=30, what="the case at the CCC"))[0].case_id
        escalated = sa.select(t.events).where(t.events.c.case_id == case_id, t.events.c.action == "escalated")
        assert await rows(escalated) == []
        ccc.kill9()  # deadlines at +10 and +20 pending

        ccc.extra_env["FROZEN_TIME"] = (TUESDAY_0300 + timedelta(minutes=12)).isoformat()
        await asyncio.to_thread(ccc.start)
        fired = await wait_until(lambda: rows(escalated), timeout=30, what="the overdue escalation after restart")
        assert len(fired) == 1

        ccc.kill9()  # and once more, at the same time: nothing fires twice
        await asyncio.to_thread(ccc.start)
        fired_once = sa.select(t.deadlines.c.fired_at).where(
            t.deadlines.c.case_id == case_id, t.deadlines.c.fired_at.is_not(None)
        )
        await wait_until(lambda: rows(fired_once), timeout=30, what="the deadline marked fired")
        assert len(await rows(escalated)) == 1
        assert len(await rows(fired_once)) == 1, "only the +10 deadline has passed at +12"
    finally:
        await db.dispose()
