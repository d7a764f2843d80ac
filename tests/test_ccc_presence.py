"""Operator presence: going away moves cases, dispatch skips busy and away operators, a timed-out
case marks its operator away, presence lapses at the next shift, and a language with nobody
present opens one gap warning that the CCC resolves when someone is back.

Default roster, Tuesday 3 March 2026 (CET): at 12:30 UTC Lyon is on duty and has two Arabic
operators on shift (ly.benali 09-14 local, ly.mansour 13-18 local); at 03:00 UTC Singapore has
one (sg.haddad, weekdays), so Arabic has nobody else to fall back on.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from ccc_support import bearer, events_of
from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.testing.harness import TestMesh, wait_until
from interpol_offices.ccc_router import presence
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.runtime import runtime_of
from interpol_offices.ccc_router.timers import fire_due
from interpol_offices.ccc_router.workflow import Intake, open_case

TUESDAY_1230 = datetime(2026, 3, 3, 12, 30, tzinfo=UTC)
TUESDAY_0300 = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
ARABIC = {
    "title": "بلاغ هاتفي من المكتب المركزي الوطني في الرياض",
    "text": "تم توقيف شخص مطلوب بموجب نشرة حمراء في مطار الملك خالد، ونطلب تأكيد صلاحية النشرة.",
    "priority": "urgent",
    "language": "ar-SA",
    "reporting_office": "ncb.sa",
}


async def _open(mesh: TestMesh, priority: str = "urgent", who: str = "ly.laurent") -> dict[str, Any]:
    created = await mesh.client("ccc").post(
        "/v1/cases", json={**ARABIC, "priority": priority}, headers=bearer(mesh, who)
    )
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


async def _presence(mesh: TestMesh, who: str, state: str, reason: str | None = None, by: str | None = None) -> Any:
    path = "/v1/operators/me/presence" if by is None else f"/v1/operators/{who}/presence"
    return await mesh.client("ccc").put(path, json={"state": state, "reason": reason}, headers=bearer(mesh, by or who))


async def _case(mesh: TestMesh, cid: str) -> dict[str, Any]:
    return dict((await mesh.rows("ccc", sa.select(t.cases).where(t.cases.c.case_id == cid)))[0]._mapping)


async def _changes(mesh: TestMesh, operator_id: str) -> list[dict[str, Any]]:
    pc = t.presence_changes
    query = sa.select(pc).where(pc.c.operator_id == operator_id).order_by(pc.c.change_id)
    return [dict(r._mapping) for r in await mesh.rows("ccc", query)]


async def _gaps(mesh: TestMesh) -> list[dict[str, Any]]:
    c, s = t.cases, t.case_subjects
    query = sa.select(c, s.c.subject).join(s, s.c.case_id == c.c.case_id).where(c.c.kind == "presence-gap")
    return [dict(r._mapping) for r in await mesh.rows("ccc", query.order_by(c.c.opened_at))]


async def test_an_operator_going_away_moves_their_open_cases_to_a_present_colleague_with_the_language(
    make_mesh: MeshFactory,
) -> None:
    clock = FakeClock(TUESDAY_1230)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    client = mesh.client("ccc")

    busy = await _presence(mesh, "ly.mansour", "busy", "on the phone with NCB Rabat")
    assert busy.status_code == 200, busy.text
    assert (busy.json()["state"], busy.json()["source"], busy.json()["moved"]) == ("busy", "operator", [])
    first, second = await _open(mesh), await _open(mesh)
    # mansour is busy: both go to benali although she is then the more loaded of the two.
    assert [first["assigned_to"], second["assigned_to"]] == ["ly.benali", "ly.benali"]
    ack = await client.post(f"/v1/cases/{first['case_id']}/acknowledge", headers=bearer(mesh, "ly.benali"))
    assert ack.status_code == 200, ack.text
    assert (await _presence(mesh, "ly.mansour", "available")).status_code == 200

    clock.advance(timedelta(minutes=2))
    away = await _presence(mesh, "ly.benali", "away", "called to the head of desk")
    assert away.status_code == 200, away.text
    body = away.json()
    assert (body["state"], body["source"], body["set_by"]) == ("away", "operator", "ly.benali")
    assert sorted(body["moved"]) == sorted([first["case_id"], second["case_id"]])
    for case in (first, second):
        row = await _case(mesh, case["case_id"])
        assert (row["assigned_to"], row["desk"], row["queue_language"]) == ("ly.mansour", "desk.lyon", "ar")
        moved = await events_of(mesh, case["case_id"], "presence-moved")
        assert len(moved) == 1 and moved[0]["actor"] == "ly.benali"
        assert moved[0]["reason"] == "ly.benali is away: called to the head of desk"
        assert (moved[0]["data"]["from_operator"], moved[0]["data"]["operator"]) == ("ly.benali", "ly.mansour")
    assert (await _case(mesh, first["case_id"]))["status"] == "acknowledged"  # it keeps its state
    detail = (await client.get(f"/v1/cases/{second['case_id']}", headers=bearer(mesh, "ly.mansour"))).json()
    assert detail["timeline"][-1]["action"] == "presence-moved"

    change = (await _changes(mesh, "ly.benali"))[-1]
    assert (change["state"], change["previous"], change["source"], change["set_by"]) == (
        "away", "available", "operator", "ly.benali",
    )  # fmt: skip
    assert sorted(m["case_id"] for m in change["data"]["moved"]) == sorted(body["moved"])
    assert {m["to_operator"] for m in change["data"]["moved"]} == {"ly.mansour"}

    board = (await client.get("/v1/presence", headers=bearer(mesh, "ly.okafor"))).json()
    mine = {o["operator_id"]: o for o in board["operators"]}
    assert (mine["ly.benali"]["state"], mine["ly.benali"]["reason"]) == ("away", "called to the head of desk")
    assert (mine["ly.okafor"]["state"], mine["ly.okafor"]["source"]) == ("available", "shift")
    assert board["desk_on_duty"] == "desk.lyon"
    assert board["languages"]["ar"] == {"on_shift": 2, "present": 1, "available": 1}
    text = (await mesh.ctx("ccc").metrics.render()).decode()
    gauge = {
        s.labels["language"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "interpol_mesh_ccc_operators_present"
    }
    assert (gauge["ar"], gauge["fr"]) == (1.0, 3.0)  # fr: martin, bernard, garcia; benali (ar, fr) is away
    coverage = (await client.get("/v1/coverage", headers=bearer(mesh, "ly.okafor"))).json()
    assert (coverage["present_now"]["ar"], coverage["present_now"]["fr"]) == (1, 3)  # this week: now counted
    other_week = await client.get("/v1/coverage", params={"week": "2026-03-23"}, headers=bearer(mesh, "ly.okafor"))
    assert other_week.json()["present_now"] is None  # a forecast has no "now"

    # Dispatch skips away and busy operators: with benali away and mansour busy, Arabic has nobody
    # available at any desk at 12:32 UTC, so the case goes down the chain to English with translation.
    assert (await _presence(mesh, "ly.mansour", "busy")).status_code == 200
    third = await _open(mesh)
    assert third["assigned_to"] not in {"ly.benali", "ly.mansour"}
    assert (third["dispatch"]["step"], third["translation_needed"]) == ("English with translation", True)
    assert "no operator with ar on shift at desk.lyon" in third["dispatch"]["attempts"][0]["outcome"]
    await fire_due(mesh.ctx("ccc"))
    assert await _gaps(mesh) == []  # busy is present: Arabic is still covered


async def test_an_assigned_case_timing_out_marks_its_operator_away_and_moves_their_other_cases(
    make_mesh: MeshFactory,
) -> None:
    clock = FakeClock(TUESDAY_1230)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    ctx = mesh.ctx("ccc")
    timed_out = await _open(mesh, "critical")  # level 1 after 10 minutes
    other = await _open(mesh)  # least loaded: mansour
    third = await _open(mesh)  # tie: roster order, benali
    assert [c["assigned_to"] for c in (timed_out, other, third)] == ["ly.benali", "ly.mansour", "ly.benali"]

    clock.advance(timedelta(minutes=10))
    await fire_due(ctx)
    change = (await _changes(mesh, "ly.benali"))[-1]
    assert (change["state"], change["source"], change["set_by"]) == ("away", "inferred", "system")
    assert change["reason"] == f"let case {timed_out['case_id']} time out"
    assert [m["case_id"] for m in change["data"]["moved"]] == [third["case_id"]]
    assert (await _case(mesh, third["case_id"]))["assigned_to"] == "ly.mansour"
    escalated = await _case(mesh, timed_out["case_id"])
    assert (escalated["assigned_to"], escalated["escalation_level"]) == ("ly.laurent", 1)
    assert await _changes(mesh, "ly.mansour") == []
    board = (await mesh.client("ccc").get("/v1/presence", headers=bearer(mesh, "ly.laurent"))).json()
    benali = next(o for o in board["operators"] if o["operator_id"] == "ly.benali")
    assert (benali["state"], benali["source"]) == ("away", "inferred")

    # Presence lapses at the next shift: benali's ends at 14:00 local (13:00 UTC); on Wednesday
    # morning she reads as available again and takes Arabic cases.
    clock.set(datetime(2026, 3, 4, 8, 30, tzinfo=UTC))
    board = (await mesh.client("ccc").get("/v1/presence", headers=bearer(mesh, "ly.laurent"))).json()
    benali = next(o for o in board["operators"] if o["operator_id"] == "ly.benali")
    assert (benali["state"], benali["source"], benali["since"]) == ("available", "shift", "2026-03-04T08:00:00Z")
    assert (await _open(mesh))["assigned_to"] == "ly.benali"


async def test_a_language_with_nobody_present_opens_one_gap_case_resolved_when_someone_is_back(
    make_mesh: MeshFactory,
) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    ctx = mesh.ctx("ccc")
    await fire_due(ctx)
    assert await _gaps(mesh) == []

    # Refusals first: an unknown state, an operator setting a colleague, an unknown operator, a peer's head.
    unknown = await _presence(mesh, "sg.haddad", "sleeping")
    assert unknown.status_code == 422 and "available" in unknown.text
    colleague = await _presence(mesh, "sg.haddad", "away", by="sg.tan")
    assert colleague.status_code == 403
    assert "sg.tan is an operator" in colleague.json()["detail"]
    assert (await _presence(mesh, "sg.nobody", "away", by="sg.koh")).status_code == 404
    head = await _presence(mesh, "sg.chen", "away", by="sg.koh")
    assert head.status_code == 403 and "sg.chen is head-of-desk" in head.json()["detail"]

    away = await _presence(mesh, "sg.haddad", "away", "left the room", by="sg.koh")
    assert away.status_code == 200, away.text
    assert (away.json()["source"], away.json()["set_by"]) == ("colleague", "sg.koh")
    clock.advance(timedelta(seconds=1))
    await fire_due(ctx)
    await fire_due(ctx)  # never a second warning while one is open
    gaps = await _gaps(mesh)
    assert len(gaps) == 1
    gap = gaps[0]
    assert (gap["title"], gap["subject"], gap["assigned_to"], gap["desk"], gap["priority"], gap["status"]) == (
        "Nobody present for ar at desk.singapore", "presence-gap:ar", "sg.koh", "desk.singapore", "urgent",
        "dispatched",
    )  # fmt: skip
    board = (await mesh.client("ccc").get("/v1/presence", headers=bearer(mesh, "sg.tan"))).json()
    assert board["languages"]["ar"] == {"on_shift": 1, "present": 0, "available": 0}

    clock.advance(timedelta(minutes=3))
    assert (await _presence(mesh, "sg.haddad", "available")).status_code == 200
    await fire_due(ctx)
    gap = (await _gaps(mesh))[0]
    assert gap["status"] == "resolved"
    resolved = await events_of(mesh, gap["case_id"], "resolved")
    assert [(e["actor"], e["reason"]) for e in resolved] == [("system", "ar covered again: sg.haddad available")]
    deadlines = await mesh.rows("ccc", sa.select(t.deadlines).where(t.deadlines.c.case_id == gap["case_id"]))
    assert deadlines and all(d.cancelled_at is not None for d in deadlines)

    # A second absence opens a new warning (the old one is resolved).
    assert (await _presence(mesh, "sg.haddad", "offline")).status_code == 200
    await fire_due(ctx)
    assert [g["status"] for g in await _gaps(mesh)] == ["resolved", "dispatched"]


async def test_a_gap_still_open_at_the_handover_goes_to_the_incoming_duty_officer(make_mesh: MeshFactory) -> None:
    # 15:59 UTC: French at Lyon's late shift is ly.bernard alone; at 16:00 ba.moreau (Buenos Aires)
    # and ly.saadi (Lyon's night shift) start, both with French.
    clock = FakeClock(datetime(2026, 3, 3, 15, 59, tzinfo=UTC))
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    ctx = mesh.ctx("ccc")
    assert (await _presence(mesh, "ly.bernard", "away", "meeting", by="ly.laurent")).status_code == 200
    await fire_due(ctx)
    gap = (await _gaps(mesh))[0]
    assert (gap["title"], gap["assigned_to"]) == ("Nobody present for fr at desk.lyon", "ly.laurent")

    clock.set(datetime(2026, 3, 3, 16, 0, tzinfo=UTC))
    assert (await _presence(mesh, "ba.moreau", "busy", by="ba.gomez")).status_code == 200
    assert (await _presence(mesh, "ba.moreau", "offline", by="ba.gomez")).status_code == 200
    assert (await _presence(mesh, "ly.saadi", "away", by="ly.laurent")).status_code == 200
    await fire_due(ctx)
    gaps = await _gaps(mesh)
    assert [(g["case_id"], g["desk"], g["assigned_to"], g["status"]) for g in gaps] == [
        (gap["case_id"], "desk.buenos-aires", "ba.gomez", "dispatched")
    ]
    handed = await events_of(mesh, gap["case_id"], "handover")
    assert [(e["data"]["from_operator"], e["data"]["operator"]) for e in handed] == [("ly.laurent", "ba.gomez")]
    detail = await mesh.client("ccc").get(f"/v1/cases/{gap['case_id']}", headers=bearer(mesh, "ba.gomez"))
    assert detail.status_code == 200 and detail.json()["kind"] == "presence-gap"


# --- Review fixes: races, waiting cases, off-shift holders, late deadlines, gap warnings ---------

TUESDAY_1150 = datetime(2026, 3, 3, 11, 50, tzinfo=UTC)


def _intake() -> Intake:
    return Intake(
        source="api", kind="api", title=ARABIC["title"], text=ARABIC["text"], priority="urgent",
        language_tag="ar-SA", reported_by="ly.laurent",
    )  # fmt: skip


async def _everyone_busy(mesh: TestMesh, by: str) -> list[str]:
    """Mark every dispatch-role operator on shift busy (set by the duty officer `by`): nobody takes a case."""
    board = (await mesh.client("ccc").get("/v1/presence", headers=bearer(mesh, by))).json()
    ops = [o["operator_id"] for o in board["operators"] if o["role"] == "operator"]
    for op in ops:
        assert (await _presence(mesh, op, "busy", by=by)).status_code == 200
    return ops


async def test_a_dispatch_and_a_change_of_presence_at_the_same_instant_never_leave_a_case_with_an_absent_operator(
    make_mesh: MeshFactory,
) -> None:
    clock = FakeClock(TUESDAY_1230)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    ctx = mesh.ctx("ccc")
    postgres = ctx.engine.dialect.name == "postgresql"

    # A case being dispatched to benali (not committed yet) while she goes away: her change waits
    # for the dispatch, then sees the case and moves it to mansour.
    async with ctx.transaction() as uow:
        case = await open_case(uow, runtime_of(ctx), _intake())
        assert case.assigned_to == "ly.benali"
        going = asyncio.create_task(_presence(mesh, "ly.benali", "away", "called away"))
        if postgres:  # the change is waiting on benali's presence lock, held by this dispatch

            async def waiting() -> bool:
                async with ctx.engine.connect() as conn:
                    query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    return bool(await conn.scalar(sa.text(query)))

            await wait_until(waiting, what="the presence change waiting for the dispatch")
    away = await going
    assert away.status_code == 200, away.text
    assert away.json()["moved"] == [case.case_id]
    assert (await _case(mesh, case.case_id))["assigned_to"] == "ly.mansour"

    # Two first changes of one operator at once (okafor has no presence row yet): both recorded, in turn.
    first, second = await asyncio.gather(
        _presence(mesh, "ly.okafor", "busy", by="ly.laurent"), _presence(mesh, "ly.okafor", "away", by="ly.laurent")
    )
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    changes = await _changes(mesh, "ly.okafor")
    assert len(changes) == 2 and changes[1]["previous"] == changes[0]["state"]

    if postgres:  # the other order: a change under way makes dispatch pick someone else, without waiting
        assert (await _presence(mesh, "ly.benali", "available")).status_code == 200
        async with ctx.transaction() as uow:
            await presence.set_state(
                uow, runtime_of(ctx), "ly.mansour", "offline", source="operator", set_by="ly.mansour", reason=None
            )
            opened = await _open(mesh)  # mansour's change is not committed: she still reads as available
            assert opened["assigned_to"] == "ly.benali"
        assert (await _case(mesh, case.case_id))["assigned_to"] == "ly.benali"  # moved by mansour's change


async def test_a_case_changing_while_it_is_moved_refuses_the_presence_change_with_409(make_mesh: MeshFactory) -> None:
    clock = FakeClock(TUESDAY_1230)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    ctx = mesh.ctx("ccc")
    case = await _open(mesh)
    assert case["assigned_to"] == "ly.benali"
    # Another writer wins the case at the instant it is moved: a trigger makes the mover's update miss it.
    if ctx.engine.dialect.name == "postgresql":
        ddl = [
            "CREATE OR REPLACE FUNCTION test_skip_update() RETURNS trigger AS $$ BEGIN RETURN NULL; END $$ "
            "LANGUAGE plpgsql",
            f"CREATE TRIGGER test_skip_update BEFORE UPDATE ON ccc_cases FOR EACH ROW "
            f"WHEN (OLD.case_id = '{case['case_id']}') EXECUTE FUNCTION test_skip_update()",
        ]
    else:
        ddl = [
            f"CREATE TRIGGER test_skip_update BEFORE UPDATE ON ccc_cases WHEN OLD.case_id = '{case['case_id']}' "
            f"BEGIN SELECT RAISE(IGNORE); END"
        ]
    async with ctx.engine.begin() as conn:
        for statement in ddl:
            await conn.execute(sa.text(statement))
    refused = await _presence(mesh, "ly.benali", "away")
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        f"case {case['case_id']} was changed by someone else meanwhile; reload it and try again"
    )
    assert await _changes(mesh, "ly.benali") == []  # nothing was written
    async with ctx.engine.begin() as conn:
        await conn.execute(sa.text("DROP TRIGGER test_skip_update" + (" ON ccc_cases" if
                                   ctx.engine.dialect.name == "postgresql" else "")))  # fmt: skip
    assert (await _presence(mesh, "ly.benali", "away")).json()["moved"] == [case["case_id"]]


async def test_waiting_cases_go_to_an_operator_who_becomes_available_or_starts_a_shift(make_mesh: MeshFactory) -> None:
    # 11:50 UTC: Lyon on duty; benali is Lyon's only Arabic operator until mansour starts at 12:00.
    clock = FakeClock(TUESDAY_1150)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    ctx = mesh.ctx("ccc")
    busy = await _everyone_busy(mesh, "ly.laurent")
    assert "ly.benali" in busy and "ly.mansour" not in busy
    routine, critical = await _open(mesh, "routine"), await _open(mesh, "critical")
    assert (routine["assigned_to"], routine["dispatch"]["step"]) == (None, "default queue")
    assert critical["assigned_to"] is None
    await fire_due(ctx)  # nobody available: the tick leaves them waiting and writes nothing
    assert (await _case(mesh, routine["case_id"]))["version"] == 1

    # benali becomes available: both waiting cases go to her, the critical one first.
    clock.advance(timedelta(minutes=1))
    back = await _presence(mesh, "ly.benali", "available", "back from the briefing")
    assert back.status_code == 200, back.text
    for case in (critical, routine):
        row = await _case(mesh, case["case_id"])
        assert (row["assigned_to"], row["queue_language"], row["translation_needed"]) == ("ly.benali", "ar", False)
        given = await events_of(mesh, case["case_id"], "dispatched-from-queue")
        assert [(e["actor"], e["reason"]) for e in given] == [
            ("ly.benali", "ly.benali is available: back from the briefing")
        ]
    change = (await _changes(mesh, "ly.benali"))[-1]
    assert change["data"]["dispatched"] == [critical["case_id"], routine["case_id"]]

    # A shift starting is signing in, with no change to announce it: the timer tick gives the case out.
    assert (await _presence(mesh, "ly.benali", "busy")).status_code == 200
    waiting = await _open(mesh)
    assert waiting["assigned_to"] is None
    clock.set(datetime(2026, 3, 3, 12, 0, tzinfo=UTC))
    await fire_due(ctx)
    row = await _case(mesh, waiting["case_id"])
    assert (row["assigned_to"], row["desk"]) == ("ly.mansour", "desk.lyon")
    given = await events_of(mesh, waiting["case_id"], "dispatched-from-queue")
    assert [e["actor"] for e in given] == ["system"]


async def test_no_away_inference_for_a_holder_off_shift_or_one_who_held_the_case_under_half_its_window(
    make_mesh: MeshFactory,
) -> None:
    clock = FakeClock(TUESDAY_1230)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    ctx = mesh.ctx("ccc")
    # Critical: level 1 after 10 minutes. Benali gets it at 12:30 and goes away at 12:36: mansour
    # holds it 4 of the 10 minutes before it is due. The CCC is down until 12:45: the deadline
    # fires 5 minutes late, which must not count as mansour's time.
    late = await _open(mesh, "critical")
    assert late["assigned_to"] == "ly.benali"
    clock.advance(timedelta(minutes=6))
    assert (await _presence(mesh, "ly.benali", "away")).json()["moved"] == [late["case_id"]]
    assert (await _presence(mesh, "ly.benali", "available")).status_code == 200
    clock.set(datetime(2026, 3, 3, 12, 45, tzinfo=UTC))
    await fire_due(ctx)
    row = await _case(mesh, late["case_id"])
    assert (row["assigned_to"], row["escalation_level"]) == ("ly.laurent", 1)
    assert await _changes(mesh, "ly.mansour") == []

    # Benali (shift to 13:00 UTC) gets a critical case at 12:55; it times out at 13:05, after her
    # shift ended: she did not let it time out, it just escalates.
    clock.set(datetime(2026, 3, 3, 12, 55, tzinfo=UTC))
    assert (await _presence(mesh, "ly.mansour", "busy")).status_code == 200
    ended = await _open(mesh, "critical")
    assert ended["assigned_to"] == "ly.benali"
    before = len(await _changes(mesh, "ly.benali"))
    clock.set(datetime(2026, 3, 3, 13, 5, tzinfo=UTC))
    await fire_due(ctx)
    assert (await _case(mesh, ended["case_id"]))["escalation_level"] == 1
    assert len(await _changes(mesh, "ly.benali")) == before


async def test_a_failing_gap_check_does_not_stop_the_deadlines(
    make_mesh: MeshFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(TUESDAY_1230)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    case = await _open(mesh, "critical")

    async def broken(ctx: object, now: datetime) -> None:
        raise RuntimeError("gap check broken")

    monkeypatch.setattr(presence, "check_gaps", broken)
    clock.advance(timedelta(minutes=10))
    with caplog.at_level(logging.ERROR):
        fired = await fire_due(mesh.ctx("ccc"))
    assert [(f.case_id, f.level) for f in fired] == [(case["case_id"], 1)]
    assert [r.getMessage() for r in caplog.records] == ["CCC gap check failed; deadlines fire anyway"]


async def test_a_gap_warning_goes_to_a_present_duty_officer_else_as_before_saying_so(make_mesh: MeshFactory) -> None:
    # 16:00 UTC: Buenos Aires on duty (ba.gomez); Lyon's duty officer ly.laurent is on shift until 17:00.
    clock = FakeClock(datetime(2026, 3, 3, 16, 0, tzinfo=UTC))
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    ctx = mesh.ctx("ccc")
    assert (await _presence(mesh, "ba.gomez", "away", "at the embassy")).status_code == 200
    for op, by in (("ly.bernard", "ly.laurent"), ("ba.moreau", "ba.ruiz"), ("ly.saadi", "ly.laurent")):
        assert (await _presence(mesh, op, "away", by=by)).status_code == 200
    await fire_due(ctx)
    (fr,) = await _gaps(mesh)
    assert (fr["subject"], fr["desk"], fr["assigned_to"]) == ("presence-gap:fr", "desk.buenos-aires", "ly.laurent")
    why = "duty officer on shift and available at desk.lyon (none present at desk.buenos-aires)"
    assert [e["reason"] for e in await events_of(mesh, fr["case_id"], "dispatched")] == [why]
    assert fr["text"].endswith(f"Given to ly.laurent: {why}.")

    # With no duty officer present, the warning goes as before (the desk's duty officer), and says so.
    assert (await _presence(mesh, "ly.laurent", "away")).status_code == 200
    assert (await _presence(mesh, "ly.mansour", "away", by="ly.laurent")).status_code == 200
    await fire_due(ctx)
    ar = next(g for g in await _gaps(mesh) if g["subject"] == "presence-gap:ar")
    assert ar["assigned_to"] == "ba.gomez"
    assert [e["reason"] for e in await events_of(mesh, ar["case_id"], "dispatched")] == [
        "duty officer on shift at the case's desk; no duty officer is present (ly.laurent away, ba.gomez away)"
    ]


async def test_the_timer_never_waits_for_a_presence_change_under_way(make_mesh: MeshFactory) -> None:
    """The timer holds the case row when it would infer `away`; the holder's own change, holding
    her presence lock, may be moving that very row. So the timer only tries the lock: busy, it
    skips the inference and the case just escalates (PostgreSQL; SQLite's writes are serial)."""
    clock = FakeClock(TUESDAY_1230)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    ctx = mesh.ctx("ccc")
    timed_out = await _open(mesh, "critical")
    assert timed_out["assigned_to"] == "ly.benali"
    clock.advance(timedelta(minutes=10))
    if ctx.engine.dialect.name == "postgresql":
        async with ctx.engine.connect() as change_under_way:
            lock = "SELECT pg_advisory_xact_lock(:ns, hashtext(:op))"
            await change_under_way.execute(sa.text(lock), {"ns": presence.PRESENCE_LOCK, "op": "ly.benali"})
            fired = await asyncio.wait_for(fire_due(ctx), timeout=30)
            await change_under_way.rollback()
        assert [f.case_id for f in fired] == [timed_out["case_id"]]
        assert await _changes(mesh, "ly.benali") == []  # not inferred away while her own change was under way
    else:
        await fire_due(ctx)
        assert (await _changes(mesh, "ly.benali"))[-1]["source"] == "inferred"
    escalated = await _case(mesh, timed_out["case_id"])
    assert (escalated["assigned_to"], escalated["escalation_level"]) == ("ly.laurent", 1)


async def test_an_escalation_pages_a_present_duty_officer_before_an_absent_one(make_mesh: MeshFactory) -> None:
    """Escalation follows presence too: the case's desk's duty officer is away, so level 1 pages the
    one present at another desk; with every duty officer away it pages one all the same, saying so.
    16:30 UTC on a Tuesday: Lyon's (09-18 local) and Buenos Aires' (13-21 local) are both on shift."""
    clock = FakeClock(datetime(2026, 3, 3, 16, 30, tzinfo=UTC))
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    ctx = mesh.ctx("ccc")
    officers = {
        d.operator.id: d.desk for d in runtime_of(ctx).on_shift(clock.now()) if d.operator.role == "duty-officer"
    }
    case = await _open(mesh, "critical")
    here = [o for o, desk in officers.items() if desk == case["desk"]]
    assert here and len(officers) > len(here), (officers, case["desk"])
    for officer in here:
        assert (await _presence(mesh, officer, "away", by=officer)).status_code == 200
    clock.advance(timedelta(minutes=10))
    await fire_due(ctx)
    [escalated] = await events_of(mesh, case["case_id"], "escalated")
    assert escalated["data"]["operator"] in set(officers) - set(here), escalated
    assert f"none at {case['desk']}" in escalated["data"]["note"]

    for officer in set(officers) - set(here):
        assert (await _presence(mesh, officer, "away", by=officer)).status_code == 200
    second = await _open(mesh, "critical")
    clock.advance(timedelta(minutes=10))
    await fire_due(ctx)
    [paged] = await events_of(mesh, second["case_id"], "escalated")
    assert paged["data"]["operator"] in officers, paged
    assert "nobody present to page" in paged["data"]["note"]
