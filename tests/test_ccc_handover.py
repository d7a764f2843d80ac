"""Shift handover and bus intake rules: open cases move to the incoming desk, with a record."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from ccc_support import bearer, case_for_message, events_of, message, send_to_ccc
from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import wait_until
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.timers import fire_due, run_handover

TUESDAY_0750 = datetime(2026, 3, 3, 7, 50, tzinfo=UTC)


async def test_handover_moves_open_cases_to_the_incoming_desk_once(make_mesh: MeshFactory) -> None:
    clock = FakeClock(TUESDAY_0750)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.us")
    routine = await send_to_ccc(
        mesh, "ncb.us", message("Records check", "Please run a records check on the attached identity.", request=True),
        kind="message", language="en-US", priority="routine",
    )  # fmt: skip
    urgent = await send_to_ccc(
        mesh, "ncb.us", message("Vehicle", "Stolen vehicle located near the port, please confirm the VIN.", request=False),
        kind="message", language="en", priority="urgent",
    )  # fmt: skip
    a = await wait_until(lambda: case_for_message(mesh, routine), what="routine request case")
    b = await wait_until(lambda: case_for_message(mesh, urgent), what="urgent case")
    # Least-loaded: sg.tan already holds one English case, so the next goes to sg.haddad (ar, en).
    assert (a["desk"], a["assigned_to"], b["assigned_to"]) == ("desk.singapore", "sg.tan", "sg.haddad")
    ack = await mesh.client("ccc").post(f"/v1/cases/{b['case_id']}/acknowledge", headers=bearer(mesh, "sg.haddad"))
    assert ack.status_code == 200

    ctx = mesh.ctx("ccc")
    assert await run_handover(ctx, clock.now()) is None  # 00:00 handover was done at start-up
    clock.set(datetime(2026, 3, 3, 8, 0, tzinfo=UTC))
    await fire_due(ctx)
    await fire_due(ctx)
    handovers = await mesh.rows("ccc", sa.select(t.handovers).order_by(t.handovers.c.boundary_at))
    last = handovers[-1]
    assert (last.from_desk, last.to_desk, sorted(last.moved)) == (
        "desk.singapore",
        "desk.lyon",
        sorted([a["case_id"], b["case_id"]]),
    )
    assert len(handovers) == 2
    moved_a, moved_b = await case_for_message(mesh, routine), await case_for_message(mesh, urgent)
    assert (moved_b["desk"], moved_b["assigned_to"], moved_b["status"]) == ("desk.lyon", "ly.okafor", "acknowledged")
    handover = (await events_of(mesh, a["case_id"], "handover"))[0]
    assert (handover["data"]["from_desk"], handover["data"]["to_desk"], handover["data"]["from_operator"]) == (
        "desk.singapore", "desk.lyon", "sg.tan",
    )  # fmt: skip
    # "Routine: by the next shift": not acknowledged at the handover, so the incoming desk's duty officer is paged.
    escalated = await events_of(mesh, a["case_id"], "escalated")
    assert [(e["data"]["level"], e["data"]["operator"]) for e in escalated] == [(1, "ly.laurent")]
    assert moved_a["assigned_to"] == "ly.laurent" and moved_a["desk"] == "desk.lyon"
    assert b["policy"]["priority"] == "urgent" and await events_of(mesh, b["case_id"], "escalated") == []


async def test_only_urgent_critical_requests_and_hits_open_cases(make_mesh: MeshFactory) -> None:
    mesh = make_mesh(clock=FakeClock(TUESDAY_0750))
    await mesh.start("ccc", "ncb.us")
    plain = await send_to_ccc(
        mesh,
        "ncb.us",
        message("FYI", "Monthly statistics attached for information."),
        kind="message",
        language="en",
        priority="routine",
    )

    async def stored_at_ccc() -> bool:
        return bool(await mesh.rows("ccc", sa.select(tables.inbox).where(tables.inbox.c.message_id == plain)))

    await wait_until(stored_at_ccc, what="the routine message in the CCC inbox")
    assert await case_for_message(mesh, plain) is None
