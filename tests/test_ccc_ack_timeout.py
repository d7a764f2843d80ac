"""Acknowledged is not resolved: an acknowledged case re-triggers at its policy's acknowledgement
timeout, exactly once (also across a CCC restart); a snooze moves that time, with its reason; a
new acknowledgement plans a new timeout; resolving stops it.

Critical policy (data/escalation.toml): ack timeout 60 min, snooze at most 120 min. The clock is a
FakeClock moved by the test; `fire_due` is the timer (the background loop calls the same function).
Real nats-server, both databases.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from ccc_support import bearer, case_for_message, events_of, message, send_to_ccc
from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.ack_timeout import CONDITION
from interpol_offices.ccc_router.presence import GAP_KIND
from interpol_offices.ccc_router.timers import fire_due

TUESDAY_0300 = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)  # Singapore desk on duty


async def critical_case(
    mesh: TestMesh, text: str = "تم توقيف المشتبه به في مطار القاهرة ونطلب تأكيد النشرة فورا."
) -> dict[str, Any]:
    mid = await send_to_ccc(
        mesh, "ncb.eg", message("بلاغ عاجل", text), kind="message", language="ar-EG", priority="critical"
    )
    case: dict[str, Any] = await wait_until(lambda: case_for_message(mesh, mid), what="the critical case")
    return case


async def deadlines(mesh: TestMesh, case_id: str, condition: str | None = None) -> list[Any]:
    d = t.deadlines
    query = sa.select(d).where(d.c.case_id == case_id).order_by(d.c.deadline_id)
    if condition is not None:
        query = query.where(d.c.condition == condition)
    return await mesh.rows("ccc", query)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def act(mesh: TestMesh, case: dict[str, Any], action: str, operator: str, **body: Any) -> Any:
    return await mesh.client("ccc").post(
        f"/v1/cases/{case['case_id']}/{action}", headers=bearer(mesh, operator), json=body or None
    )


async def test_an_acknowledged_case_retriggers_once_and_a_new_acknowledgement_plans_a_new_timeout(
    make_mesh: MeshFactory,
) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.eg")
    case = await critical_case(mesh)
    cid, holder, ctx = case["case_id"], case["assigned_to"], mesh.ctx("ccc")
    assert case["policy"]["ack_timeout_minutes"] == 60

    clock.advance(timedelta(minutes=5))
    ack = await act(mesh, case, "acknowledge", holder)
    assert ack.status_code == 200, ack.text
    pending = [d for d in ack.json()["deadlines"] if d["cancelled_at"] is None]
    assert [(d["condition"], d["target"], d["level"]) for d in pending] == [(CONDITION, "assignee", 0)]
    assert datetime.fromisoformat(pending[0]["due_at"]) == TUESDAY_0300 + timedelta(minutes=65)
    acked = (await events_of(mesh, cid, "acknowledged"))[0]
    assert acked["data"]["ack_timeout_at"] == (TUESDAY_0300 + timedelta(minutes=65)).isoformat()

    clock.advance(timedelta(minutes=59, seconds=59))
    await fire_due(ctx)
    assert await events_of(mesh, cid, "ack-timed-out") == []
    clock.advance(timedelta(seconds=1))  # +65:00, one hour after the acknowledgement
    await asyncio.gather(*(fire_due(ctx) for _ in range(3)))  # the background loop races too
    timed_out = await events_of(mesh, cid, "ack-timed-out")
    assert len(timed_out) == 1
    assert timed_out[0]["actor"] == "system"
    assert (
        f"acknowledged by {holder}" in timed_out[0]["reason"]
        and "60 min acknowledgement timeout" in timed_out[0]["reason"]
    )
    assert timed_out[0]["data"]["acknowledged_by"] == holder
    row = await case_for_message(mesh, case["message_id"])
    assert row is not None
    assert (row["status"], row["acknowledged_by"], row["acknowledged_at"], row["escalation_level"]) == (
        "dispatched", None, None, 0,
    )  # fmt: skip
    # The if-not-acked levels again, from the re-trigger: +10, +20, then the repeats at +35, +50.
    again = [d for d in await deadlines(mesh, cid, "if-not-acked") if d.cancelled_at is None]
    assert [(d.level, d.repeat, utc(d.due_at) - clock.now()) for d in again] == [
        (1, 0, timedelta(minutes=10)), (2, 0, timedelta(minutes=20)),
        (2, 1, timedelta(minutes=35)), (2, 2, timedelta(minutes=50)),
    ]  # fmt: skip
    fired = (await deadlines(mesh, cid, CONDITION))[0]
    assert fired.fired_at is not None and fired.outcome.startswith("re-triggered")
    assert "redispatched" not in fired.outcome and row["assigned_to"] == holder  # available: it stays in their queue

    # The sender hears it, signed, in its working language (Arabic for Egypt).
    async def told() -> list[Any]:
        rows = await mesh.rows("ncb.eg", sa.select(tables.inbox).where(tables.inbox.c.kind == "message"))
        return [r for r in rows if "event: ack-timed-out" in r.body["text"]]

    notice = (await wait_until(told, what="the re-trigger notice at ncb.eg"))[0]
    assert notice.language == "ar" and cid in notice.body["title"] and "في الوقت المحدد" in notice.body["title"]

    # Not acknowledged again: the policy escalates as for a new case.
    clock.advance(timedelta(minutes=10))
    await fire_due(ctx)
    assert [e["data"]["level"] for e in await events_of(mesh, cid, "escalated")] == [1]
    # That escalation marked the holder as not responding, which leaves the case's language uncovered:
    # the next tick's gap check opens a `presence-gap` case. The background timer may or may not run
    # that tick before the steps below; run it here so what follows is the same every time.
    await fire_due(ctx)

    # A new acknowledgement plans a new timeout, an hour from it.
    row = await case_for_message(mesh, case["message_id"])
    assert row is not None
    reack = await act(mesh, case, "acknowledge", row["assigned_to"])
    assert reack.status_code == 200, reack.text
    timeouts = await deadlines(mesh, cid, CONDITION)
    assert len(timeouts) == 2 and timeouts[1].fired_at is None and timeouts[1].cancelled_at is None
    assert utc(timeouts[1].due_at) == clock.now() + timedelta(minutes=60)

    # Resolving stops it: nothing fires afterwards.
    clock.advance(timedelta(minutes=30))
    done = await act(mesh, case, "resolve", row["assigned_to"], resolution="Identity confirmed; NCB Cairo informed.")
    assert done.status_code == 200, done.text
    assert all(d["fired_at"] or d["cancelled_at"] for d in done.json()["deadlines"])
    clock.advance(timedelta(hours=3))
    later = await fire_due(ctx)
    assert [f for f in later if f.case_id == cid] == []  # nothing of the resolved case fires again
    kinds = {r.kind for r in await mesh.rows("ccc", sa.select(t.cases.c.kind).where(
        t.cases.c.case_id.in_({f.case_id for f in later})))}  # fmt: skip
    assert kinds == {GAP_KIND}  # only the presence gap's escalation: the holder's language is still uncovered
    assert len(await events_of(mesh, cid, "ack-timed-out")) == 1


async def test_snooze_moves_the_retrigger_with_its_reason_and_is_refused_outside_its_bounds(
    make_mesh: MeshFactory,
) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.eg")
    case = await critical_case(mesh)
    cid, holder, ctx = case["case_id"], case["assigned_to"], mesh.ctx("ccc")

    early = await act(mesh, case, "snooze", holder, minutes=30, reason="waiting for Madrid")
    assert early.status_code == 409 and "acknowledge it first" in early.json()["detail"]
    assert (await act(mesh, case, "acknowledge", holder)).status_code == 200
    too_long = await act(mesh, case, "snooze", holder, minutes=121, reason="waiting for Madrid")
    assert too_long.status_code == 422 and "1..120" in too_long.json()["detail"]
    assert (await act(mesh, case, "snooze", holder, minutes=0, reason="waiting for Madrid")).status_code == 422
    assert (await act(mesh, case, "snooze", holder, minutes=30)).status_code == 422  # a reason is required

    clock.advance(timedelta(minutes=20))
    reason = "Waiting for NCB Madrid to confirm the extradition request"
    snoozed = await act(mesh, case, "snooze", holder, minutes=90, reason=reason)
    assert snoozed.status_code == 200, snoozed.text
    until = TUESDAY_0300 + timedelta(minutes=110)
    assert datetime.fromisoformat(snoozed.json()["snoozed_until"]) == until
    event = (await events_of(mesh, cid, "snoozed"))[0]
    assert (event["actor"], event["reason"], event["data"]["minutes"], event["data"]["deadlines_cancelled"]) == (
        holder, reason, 90, 1,
    )  # fmt: skip
    old, new = await deadlines(mesh, cid, CONDITION)
    assert old.cancelled_at is not None and old.outcome.startswith(f"cancelled: snoozed by {holder}")
    assert utc(new.due_at) == until and new.cancelled_at is None
    mine = (await mesh.client("ccc").get("/v1/queue/mine", headers=bearer(mesh, holder))).json()
    assert [datetime.fromisoformat(c["snoozed_until"]) for c in mine if c["case_id"] == cid] == [until]

    clock.set(TUESDAY_0300 + timedelta(minutes=60))  # the un-snoozed timeout: nothing now
    await fire_due(ctx)
    assert await events_of(mesh, cid, "ack-timed-out") == []
    clock.set(until)
    await fire_due(ctx)
    timed_out = await events_of(mesh, cid, "ack-timed-out")
    assert len(timed_out) == 1 and f"snooze until {until.isoformat()} ended" in timed_out[0]["reason"]
    row = await case_for_message(mesh, case["message_id"])
    assert row is not None and (row["status"], row["snoozed_until"]) == ("dispatched", None)
    again = await act(mesh, case, "snooze", holder, minutes=30, reason="waiting for Madrid")
    assert again.status_code == 409  # dispatched again: acknowledge first

    assert (await act(mesh, case, "acknowledge", holder)).status_code == 200
    resolved = await act(mesh, case, "resolve", holder, resolution="Extradition request received.")
    assert resolved.status_code == 200
    late = await act(mesh, case, "snooze", holder, minutes=30, reason="waiting for Madrid")
    assert late.status_code == 409 and "resolved" in late.json()["detail"]


@pytest.mark.slow
async def test_the_retrigger_fires_exactly_once_across_a_ccc_restart(make_mesh: MeshFactory) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.eg")
    case = await critical_case(mesh)
    cid = case["case_id"]
    assert (await act(mesh, case, "acknowledge", case["assigned_to"])).status_code == 200
    await mesh.stop("ccc")  # down with the acknowledgement timeout pending at +60

    clock.advance(timedelta(minutes=75))
    await mesh.start("ccc")
    ctx = mesh.ctx("ccc")
    await wait_until(lambda: events_of(mesh, cid, "ack-timed-out"), what="the overdue re-trigger after restart")
    await asyncio.gather(*(fire_due(ctx) for _ in range(4)))
    timed_out = await events_of(mesh, cid, "ack-timed-out")
    assert len(timed_out) == 1
    assert "fired 900 s after its due time (CCC was not running)" in timed_out[0]["reason"]
    timeouts = await deadlines(mesh, cid, CONDITION)
    assert [(d.fired_at is not None, d.outcome.startswith("re-triggered")) for d in timeouts] == [(True, True)]
    sent = await mesh.rows("ccc", sa.select(tables.sent).where(tables.sent.c.kind == "message"))
    assert len(sent) == 2  # the acknowledgement and the one re-trigger notice to ncb.eg


async def test_a_retriggered_case_whose_assignee_is_not_available_is_dispatched_again(make_mesh: MeshFactory) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.eg")
    case = await critical_case(mesh)
    cid, holder, ctx = case["case_id"], case["assigned_to"], mesh.ctx("ccc")
    ack = await act(mesh, case, "acknowledge", holder)
    assert ack.status_code == 200, ack.text
    # Busy keeps the case (nothing moves now) but takes nothing new: back in the queue, it must
    # not wait in the queue of someone who cannot take it.
    busy = await mesh.client("ccc").put("/v1/operators/me/presence", headers=bearer(mesh, holder),
                                        json={"state": "busy", "reason": "interview with the NCB Cairo liaison"})  # fmt: skip
    assert busy.status_code == 200, busy.text
    assert (await case_for_message(mesh, case["message_id"]))["assigned_to"] == holder  # type: ignore[index]

    clock.advance(timedelta(minutes=60))
    [fired] = await fire_due(ctx)
    assert fired.outcome.startswith("re-triggered") and f"redispatched from {holder}" in fired.outcome
    row = await case_for_message(mesh, case["message_id"])
    assert row is not None and row["status"] == "dispatched" and row["assigned_to"] != holder
    actions = [e["action"] for e in await events_of(mesh, cid)]
    assert actions[-2:] == ["ack-timed-out", "redispatched"]
    moved = (await events_of(mesh, cid, "redispatched"))[0]
    assert moved["actor"] == "system" and f"its assignee {holder} is not available" in moved["reason"]
    assert (moved["data"]["from_operator"], moved["data"]["operator"]) == (holder, row["assigned_to"])
