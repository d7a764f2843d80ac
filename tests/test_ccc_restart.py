"""Deadlines live in the database: a CCC stopped with pending deadlines and restarted after one has
passed fires that escalation exactly once, even with several timer runs racing for it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ccc_support import case_for_message, events_of, message, send_to_ccc
from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import wait_until
from interpol_offices.ccc_router import notify
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.timers import fire_due

TUESDAY_0300 = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)


@pytest.mark.slow
async def test_restart_after_a_deadline_passed_fires_it_exactly_once(make_mesh: MeshFactory) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.eg")
    mid = await send_to_ccc(
        mesh, "ncb.eg", message("بلاغ عاجل", "تم توقيف المشتبه به في مطار القاهرة ونطلب تأكيد النشرة فورا."),
        kind="message", language="ar-EG", priority="critical",
    )  # fmt: skip
    case = await wait_until(lambda: case_for_message(mesh, mid), what="case")
    cid = case["case_id"]
    await mesh.stop("ccc")  # the CCC goes away with deadlines at +10, +20, +35, +50 pending

    clock.advance(timedelta(minutes=12))  # +10 passed while it was down; +20 has not
    await mesh.start("ccc")
    ctx = mesh.ctx("ccc")
    await wait_until(lambda: events_of(mesh, cid, "escalated"), what="the overdue escalation after restart")
    # Several timer runs at once (the background loop is running too): still exactly one firing.
    await asyncio.gather(*(fire_due(ctx) for _ in range(4)))
    escalations = await events_of(mesh, cid, "escalated")
    assert [(e["data"]["level"], e["data"]["operator"]) for e in escalations] == [(1, "sg.koh")]
    assert "CCC was not running" in escalations[0]["reason"]
    deadlines = await mesh.rows(
        "ccc", sa.select(t.deadlines).where(t.deadlines.c.case_id == cid).order_by(t.deadlines.c.due_at)
    )
    assert [(d.level, d.repeat, d.fired_at is not None) for d in deadlines] == [
        (1, 0, True),
        (2, 0, False),
        (2, 1, False),
        (2, 2, False),
    ]
    assert (
        await mesh.scalar(
            "ccc", sa.select(sa.func.count()).select_from(tables.sent).where(tables.sent.c.kind == "message")
        )
        == 1
    )

    clock.advance(timedelta(minutes=10))
    await asyncio.gather(*(fire_due(ctx) for _ in range(3)))
    levels = [e["data"]["level"] for e in await events_of(mesh, cid, "escalated")]
    assert levels == [1, 2]


async def test_a_crash_in_the_middle_of_an_escalation_leaves_the_deadline_pending(
    make_mesh: MeshFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.eg")
    mid = await send_to_ccc(
        mesh, "ncb.eg", message("طلب مساعدة", "نطلب المساعدة في تحديد مكان طفل مفقود في المطار."),
        kind="message", language="ar", priority="critical",
    )  # fmt: skip
    case = await wait_until(lambda: case_for_message(mesh, mid), what="case")
    real = notify.compose
    broken = {"now": True}  # fails for the test's call and for the background loop alike

    def failing_compose(*args: object, **kwargs: object) -> object:
        if broken["now"]:
            raise ConnectionError("simulated crash while notifying")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(notify, "compose", failing_compose)
    clock.advance(timedelta(minutes=10))
    ctx = mesh.ctx("ccc")
    with pytest.raises(ConnectionError):
        await fire_due(ctx)
    pending = await mesh.scalar(
        "ccc", sa.select(sa.func.count()).select_from(t.deadlines).where(t.deadlines.c.fired_at.is_(None))
    )
    assert pending == 4  # the claim rolled back with the failed escalation
    assert await events_of(mesh, case["case_id"], "escalated") == []
    broken["now"] = False
    await fire_due(ctx)
    await fire_due(ctx)
    assert len(await events_of(mesh, case["case_id"], "escalated")) == 1
