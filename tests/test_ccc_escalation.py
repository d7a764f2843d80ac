"""CCC escalation on the injected clock: a critical Arabic hit report at 03:00 UTC, not acknowledged.

Time only moves when the test moves it; `fire_due` is the timer, called directly (the
background loop calls the same function, so whichever runs first, each deadline fires once).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ccc_support import case_for_message, events_of, hit_report, publish_to_ccc, send_to_ccc
from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import wait_until
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.timers import fire_due

TUESDAY_0300 = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)  # Singapore desk on duty (00-08 UTC)
ARABIC_HIT = (
    "تطابق مع نشرة حمراء: تم توقيف الشخص المطلوب عند نقطة التفتيش في المطار أثناء محاولته السفر بجواز سفر مزور. "
    "يرجى تأكيد صلاحية النشرة وإرسال طلب التسليم بصورة عاجلة."
)


async def test_critical_arabic_hit_report_escalates_to_duty_officer_then_head_of_desk_and_tells_the_gs(
    make_mesh: MeshFactory,
) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "gs", "ncb.sa", "ncb.fr")
    await publish_to_ccc(mesh)  # a hit keeps its critical priority only on a notice the CCC confirms
    mid = await send_to_ccc(
        mesh, "ncb.sa",
        hit_report(ARABIC_HIT, place="مطار الملك خالد الدولي، الرياض", country="SA", at=TUESDAY_0300),
        kind="hit-report", language="ar-SA", priority="critical",
    )  # fmt: skip
    case = await wait_until(lambda: case_for_message(mesh, mid), what="the hit report to open a case")
    assert (case["desk"], case["assigned_to"], case["language"]) == ("desk.singapore", "sg.haddad", "ar")
    assert case["dispatch"]["step"] == "on-duty desk, case language"
    assert case["policy"]["rules"][0]["after_minutes"] == 10
    ctx = mesh.ctx("ccc")
    cid = case["case_id"]

    clock.advance(timedelta(minutes=9, seconds=59))
    await fire_due(ctx)
    assert await events_of(mesh, cid, "escalated") == []

    clock.advance(timedelta(seconds=1))  # +10:00
    await fire_due(ctx)
    first = await events_of(mesh, cid, "escalated")
    assert [(e["data"]["level"], e["data"]["operator"], e["actor"]) for e in first] == [(1, "sg.koh", "system")]
    assert (await case_for_message(mesh, mid))["assigned_to"] == "sg.koh"

    clock.advance(timedelta(minutes=9, seconds=59))
    await fire_due(ctx)
    assert len(await events_of(mesh, cid, "escalated")) == 1
    clock.advance(timedelta(seconds=1))  # +20:00
    await fire_due(ctx)
    levels = [(e["data"]["level"], e["data"]["operator"]) for e in await events_of(mesh, cid, "escalated")]
    assert levels == [(1, "sg.koh"), (2, "sg.chen")]
    second = (await events_of(mesh, cid, "escalated"))[1]
    assert "gs" in second["data"]["notified_offices"]

    async def gs_notice() -> dict[str, object] | None:
        page = (await mesh.client("gs").get("/v1/inbox", params={"kind": "message"})).json()
        return next((i for i in page["items"] if "escalated to head of desk" in i.get("title", "")), None)

    notice = await wait_until(gs_notice, what="the signed escalation notice at the GS")
    one = (await mesh.client("gs").get(f"/v1/inbox/{notice['message_id']}")).json()
    assert one["sender"] == "ccc" and one["language"] == "en"
    assert one["verification"]["key_id"].startswith("ccc/")
    assert one["body"]["title"] == f"CCC case {cid} escalated to head of desk"
    assert one["priority"] == "critical" and one["correlation_id"] == mid

    # The offices involved hear it in their own working language: Saudi Arabia in Arabic, France in French.
    async def notices(office: str) -> list[object]:
        rows = await mesh.rows(office, sa.select(tables.inbox).where(tables.inbox.c.kind == "message"))
        return rows if len(rows) >= 2 else []

    sa_rows = await wait_until(lambda: notices("ncb.sa"), what="escalation notices at ncb.sa")
    assert {r.language for r in sa_rows} == {"ar"}
    assert any("تم تصعيد" in r.body["title"] for r in sa_rows)
    fr_rows = await wait_until(lambda: notices("ncb.fr"), what="escalation notices at ncb.fr")
    assert {r.language for r in fr_rows} == {"fr"}
    assert any("remonté à le chef de salle" in r.body["title"] or "chef de salle" in r.body["title"] for r in fr_rows)

    # Repeats page the head of desk again at +35 and +50, then the policy is spent.
    clock.advance(timedelta(minutes=40))
    await fire_due(ctx)
    repeats = await events_of(mesh, cid, "escalation-repeated")
    assert [e["data"]["repeat"] for e in repeats] == [1, 2]
    d = t.deadlines
    pending = await mesh.scalar(
        "ccc", sa.select(sa.func.count()).select_from(d).where(d.c.case_id == cid, d.c.fired_at.is_(None))
    )
    assert pending == 0
    # sg.haddad let the case time out, so he is away (inferred) and Arabic has nobody present at
    # Singapore: the duty officer holds one presence-gap warning, a case of its own with its own deadlines.
    gaps = await mesh.rows("ccc", sa.select(t.cases).where(t.cases.c.kind == "presence-gap"))
    assert [(g.title, g.assigned_to) for g in gaps] == [("Nobody present for ar at desk.singapore", "sg.koh")]


async def test_acknowledging_in_time_cancels_the_escalation(make_mesh: MeshFactory) -> None:
    from ccc_support import bearer

    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "gs", "ncb.sa", "ncb.fr")
    await publish_to_ccc(mesh)
    mid = await send_to_ccc(
        mesh, "ncb.sa", hit_report(ARABIC_HIT, place="الرياض", country="SA", at=TUESDAY_0300),
        kind="hit-report", language="ar", priority="critical",
    )  # fmt: skip
    case = await wait_until(lambda: case_for_message(mesh, mid), what="case")
    clock.advance(timedelta(minutes=9))
    ack = await mesh.client("ccc").post(f"/v1/cases/{case['case_id']}/acknowledge", headers=bearer(mesh, "sg.haddad"))
    assert ack.status_code == 200, ack.text
    detail = ack.json()
    assert detail["status"] == "acknowledged" and detail["acknowledged_by"] == "sg.haddad"
    # Every escalation deadline is cancelled; what stays is the acknowledgement timeout, an hour on
    # (acknowledged is not resolved: tests/test_ccc_ack_timeout.py).
    pending = [(d["condition"], d["level"]) for d in detail["deadlines"] if d["cancelled_at"] is None]
    assert pending == [("ack-timeout", 0)]
    assert all(d["cancelled_at"] for d in detail["deadlines"] if d["condition"] == "if-not-acked")
    clock.advance(timedelta(minutes=59, seconds=59))  # past every escalation, short of the timeout
    assert await fire_due(mesh.ctx("ccc")) == []
    assert await events_of(mesh, case["case_id"], "escalated") == []
