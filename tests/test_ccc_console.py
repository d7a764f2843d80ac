"""The operator console API: mesh staff tokens, the desk rule, every case action, timeline and SLA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ccc_support import bearer
from conftest import MeshFactory
from interpol_mesh.audit.tables import audit_log
from interpol_mesh.auth import issue_token
from interpol_mesh.clock import FakeClock
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.runtime import ActiveRoster, runtime_of

TUESDAY_0300 = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
ARABIC = {
    "title": "بلاغ هاتفي من المكتب المركزي الوطني في الرياض",
    "text": "تم توقيف شخص مطلوب بموجب نشرة حمراء في مطار الملك خالد، ونطلب تأكيد صلاحية النشرة.",
    "priority": "critical",
    "language": "ar-SA",
    "reporting_office": "ncb.sa",
}


async def _open(mesh: TestMesh, body: dict[str, object], who: str = "sg.koh") -> dict[str, object]:
    created = await mesh.client("ccc").post("/v1/cases", json=body, headers=bearer(mesh, who))
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


async def test_tokens_roles_and_the_desk_rule(make_mesh: MeshFactory) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    client = mesh.client("ccc")

    missing = await client.get("/v1/queue/mine")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert (
        await client.get("/v1/queue/mine", headers={"Authorization": "Bearer forged-opaque-token"})
    ).status_code == 401

    case = await _open(mesh, ARABIC)
    cid = case["case_id"]
    assert (case["desk"], case["assigned_to"]) == ("desk.singapore", "sg.haddad")
    mine = (await client.get("/v1/queue/mine", headers=bearer(mesh, "sg.haddad"))).json()
    assert [c["case_id"] for c in mine] == [cid]
    assert (await client.get("/v1/queue/mine", headers=bearer(mesh, "sg.tan"))).json() == []
    me = (await client.get("/v1/operators/me", headers=bearer(mesh, "sg.haddad"))).json()
    assert me["on_shift_now"] and me["open_cases"] == 1 and me["languages"] == ["ar", "en"]

    other_desk = await client.post(f"/v1/cases/{cid}/acknowledge", headers=bearer(mesh, "ly.benali"))
    assert other_desk.status_code == 403
    assert "is at desk.singapore" in other_desk.json()["detail"]
    assert (
        await client.post(f"/v1/cases/{cid}/claim", headers=bearer(mesh, "ly.laurent"))
    ).status_code == 200  # duty officer

    issued = await client.post("/v1/operators/sg.tan/tokens", json={"hours": 1}, headers=bearer(mesh, "sg.haddad"))
    assert issued.status_code == 403, "an operator issues no tokens"
    own = await client.post("/v1/operators/sg.koh/tokens", json={"hours": 1}, headers=bearer(mesh, "sg.koh"))
    assert own.status_code == 403 and "for oneself" in own.json()["detail"]
    issued = await client.post(
        "/v1/operators/sg.tan/tokens", json={"hours": 1, "label": "tablet"}, headers=bearer(mesh, "sg.koh")
    )
    assert issued.status_code == 201 and issued.json()["token"].startswith("mesh1.")
    fresh = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert (await client.get("/v1/operators/me", headers=fresh)).json()["id"] == "sg.tan"
    record = await mesh.rows("ccc", sa.select(audit_log).where(audit_log.c.event == "token-issued"))
    assert [(r.sender, r.recipients) for r in record] == [("sg.koh", ["sg.tan"])] and "(tablet)" in record[0].detail
    clock.advance(timedelta(hours=1))
    assert (await client.get("/v1/operators/me", headers=fresh)).status_code == 401


async def test_the_roster_decides_who_a_token_is_and_every_refusal_is_audited(make_mesh: MeshFactory) -> None:
    mesh = make_mesh(clock=FakeClock(TUESDAY_0300))
    await mesh.start("ccc", "ncb.sa")
    client = mesh.client("ccc")
    ctx = mesh.ctx("ccc")
    stranger = issue_token(ctx.signer, subject="nobody", audience="ccc", roles=["head-of-desk"], now=ctx.clock.now())
    refused = await client.get("/v1/queue/mine", headers={"Authorization": f"Bearer {stranger}"})
    assert refused.status_code == 401 and "not (or no longer) on the CCC's active roster" in refused.json()["detail"]
    assert refused.headers["www-authenticate"].startswith("Bearer")
    sa_ctx = mesh.ctx("ncb.sa")  # an office's own token reaches the exchange routes, not the console
    office = issue_token(sa_ctx.signer, subject="ncb.sa", audience="ccc", roles=["office:ncb"], now=ctx.clock.now())
    assert (await client.get("/v1/queue/mine", headers={"Authorization": f"Bearer {office}"})).status_code == 403
    assert (await client.post("/v1/roster/overrides", json={}, headers=bearer(mesh, "sg.tan"))).status_code == 403
    assert (
        await client.get("/v1/queue/mine", headers={"Authorization": "Bearer forged-opaque-token"})
    ).status_code == 401
    case = await _open(mesh, ARABIC)
    assert (
        await client.post(f"/v1/cases/{case['case_id']}/acknowledge", headers=bearer(mesh, "ly.benali"))
    ).status_code == 403

    # Leaving the roster ends access at once, for a token issued before.
    leaving = bearer(mesh, "sg.tan")
    assert (await client.get("/v1/operators/me", headers=leaving)).status_code == 200
    rt = runtime_of(ctx)
    assert rt.active is not None
    roster = rt.active.base.model_copy(
        update={"operators": tuple(o for o in rt.active.base.operators if o.id != "sg.tan")}
    )
    rt.set_active(ActiveRoster(rt.active.version, roster, rt.active.overrides))
    gone = await client.get("/v1/operators/me", headers=leaving)
    assert gone.status_code == 401 and "sg.tan is not (or no longer)" in gone.json()["detail"]

    rows = await mesh.rows("ccc", sa.select(audit_log).where(audit_log.c.event == "auth-failure"))
    assert [(r.result, r.sender) for r in rows] == [
        ("not-on-roster", "nobody"), ("office-token", "ncb.sa"), ("forbidden", "sg.tan"), ("bad-token", None),
        ("forbidden", "ly.benali"), ("not-on-roster", "sg.tan"),
    ]  # fmt: skip


async def test_every_case_action_is_in_the_timeline_and_tells_the_office(make_mesh: MeshFactory) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.sa")
    client = mesh.client("ccc")
    cid = (await _open(mesh, ARABIC))["case_id"]

    clock.advance(timedelta(minutes=1))
    claimed = await client.post(f"/v1/cases/{cid}/claim", headers=bearer(mesh, "sg.tan"))
    assert claimed.json()["assigned_to"] == "sg.tan"
    up = await client.post(
        f"/v1/cases/{cid}/escalate",
        json={"reason": "needs authorisation to call NCB Riyadh"},
        headers=bearer(mesh, "sg.tan"),
    )
    assert up.status_code == 200 and (up.json()["escalation_level"], up.json()["assigned_to"]) == (1, "sg.koh")
    level_1 = next(d for d in up.json()["deadlines"] if (d["level"], d["repeat"]) == (1, 0))
    assert level_1["outcome"] == "cancelled: escalated by sg.tan"
    assert (
        await client.post(f"/v1/cases/{cid}/escalate", json={"reason": "no answer"}, headers=bearer(mesh, "sg.tan"))
    ).status_code == 200
    top = await client.post(f"/v1/cases/{cid}/escalate", json={"reason": "again"}, headers=bearer(mesh, "sg.tan"))
    assert top.status_code == 409 and "highest escalation level (2)" in top.json()["detail"]

    both = await client.post(
        f"/v1/cases/{cid}/reassign",
        json={"operator": "ly.benali", "desk": "desk.lyon", "reason": "x y z"},
        headers=bearer(mesh, "sg.koh"),
    )
    assert both.status_code == 422
    moved = await client.post(
        f"/v1/cases/{cid}/reassign",
        json={"operator": "ly.benali", "reason": "Arabic and French needed"},
        headers=bearer(mesh, "sg.koh"),
    )
    assert (moved.json()["desk"], moved.json()["assigned_to"], moved.json()["translation_needed"]) == (
        "desk.lyon",
        "ly.benali",
        False,
    )
    ack = await client.post(f"/v1/cases/{cid}/acknowledge", headers=bearer(mesh, "ly.benali"))
    assert ack.status_code == 200 and ack.json()["acknowledged_by"] == "ly.benali"
    assert (await client.post(f"/v1/cases/{cid}/acknowledge", headers=bearer(mesh, "ly.benali"))).status_code == 409
    done = await client.post(
        f"/v1/cases/{cid}/resolve",
        json={"resolution": "Notice confirmed; extradition request follows."},
        headers=bearer(mesh, "ly.benali"),
    )
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    again = await client.post(
        f"/v1/cases/{cid}/resolve", json={"resolution": "twice"}, headers=bearer(mesh, "ly.benali")
    )
    assert again.status_code == 409 and "is resolved" in again.json()["detail"]

    detail = (await client.get(f"/v1/cases/{cid}", headers=bearer(mesh, "sg.tan"))).json()
    steps = [(e["action"], e["actor"]) for e in detail["timeline"]]
    assert steps == [
        ("opened", "sg.koh"), ("dispatched", "system"), ("claimed", "sg.tan"), ("escalated", "sg.tan"),
        ("escalated", "sg.tan"), ("reassigned", "sg.koh"), ("acknowledged", "ly.benali"), ("resolved", "ly.benali"),
    ]  # fmt: skip
    assert all(e["at"] for e in detail["timeline"])
    assert detail["timeline"][3]["reason"] == "needs authorisation to call NCB Riyadh"
    assert detail["dispatch"]["attempts"][0]["outcome"].startswith("assigned sg.haddad")
    assert detail["language_decision"]["tag"] == "ar-SA" and detail["policy"]["priority"] == "critical"

    async def told(kind: str) -> bool:
        rows = await mesh.rows("ncb.sa", sa.select(tables.inbox).where(tables.inbox.c.kind == "message"))
        return sum(1 for r in rows if kind in r.body["text"]) >= 1 and all(r.language == "ar" for r in rows)

    for event in ("event: escalated", "event: acknowledged", "event: resolved"):
        await wait_until(lambda event=event: told(event), what=f"ncb.sa told ({event})")

    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        async with mesh.ctx("ccc").engine.begin() as conn:
            await conn.execute(t.events.update().where(t.events.c.case_id == cid).values(reason="rewritten"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        async with mesh.ctx("ccc").engine.begin() as conn:
            await conn.execute(t.events.delete().where(t.events.c.case_id == cid))


async def test_desks_queues_and_sla_statistics(make_mesh: MeshFactory) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc")
    client = mesh.client("ccc")
    desks = (await client.get("/v1/desks", headers=bearer(mesh, "sg.tan"))).json()
    assert [(d["id"], d["on_duty_now"], d["shift_utc"]) for d in desks] == [
        ("desk.singapore", True, "00:00-08:00"), ("desk.lyon", False, "08:00-16:00"), ("desk.buenos-aires", False, "16:00-24:00"),
    ]  # fmt: skip
    assert "sg.haddad" in desks[0]["on_shift_now"] and desks[2]["on_shift_now"] == []

    critical = await _open(mesh, ARABIC)
    urgent = await _open(
        mesh,
        {
            "title": "Stolen car",
            "text": "Stolen vehicle found at the port, please check the VIN.",
            "priority": "urgent",
            "language": "en",
        },
    )
    queue = (await client.get("/v1/desks/desk.singapore/queue", headers=bearer(mesh, "sg.tan"))).json()
    assert [c["case_id"] for c in queue["queues"]["ar"]] == [critical["case_id"]]
    assert [c["case_id"] for c in queue["queues"]["en"]] == [urgent["case_id"]]
    assert (await client.get("/v1/desks/desk.mars/queue", headers=bearer(mesh, "sg.tan"))).status_code == 404

    clock.advance(timedelta(minutes=4))
    await client.post(f"/v1/cases/{critical['case_id']}/acknowledge", headers=bearer(mesh, "sg.haddad"))
    clock.advance(timedelta(minutes=40))
    await client.post(f"/v1/cases/{urgent['case_id']}/acknowledge", headers=bearer(mesh, "sg.tan"))
    sla = (await client.get("/v1/stats/sla", headers=bearer(mesh, "sg.tan"))).json()
    assert sla["overall"]["cases"] == 2 and sla["overall"]["acknowledged"] == 2
    assert (
        sla["by_priority"]["critical"]["p50_seconds"] == 240
        and sla["by_priority"]["critical"]["within_first_deadline"] == 1
    )
    assert (
        sla["by_priority"]["urgent"]["p50_seconds"] == 44 * 60
        and sla["by_priority"]["urgent"]["within_first_deadline"] == 0
    )
    assert set(sla["by_language"]) == {"ar", "en"} and set(sla["by_desk"]) == {"desk.singapore"}


async def test_the_console_documents_every_ccc_operation(make_mesh: MeshFactory) -> None:
    mesh = make_mesh(clock=FakeClock(TUESDAY_0300))
    await mesh.start("ccc")
    spec = (await mesh.client("ccc").get("/openapi.json")).json()
    assert set(spec["components"]["securitySchemes"]) == {"meshToken"}, "one token scheme, the mesh's"
    assert "ccc_" not in spec["components"]["securitySchemes"]["meshToken"]["description"]
    ccc_ops = [
        (path, verb, op)
        for path, item in spec["paths"].items()
        for verb, op in item.items()
        if any(tag.startswith("CCC") for tag in op.get("tags", []))
    ]
    assert len(ccc_ops) >= 18
    for path, verb, op in ccc_ops:
        assert op.get("summary") and op.get("description"), f"{verb} {path} lacks a summary or description"
        assert op.get("security") == [{"meshToken": []}], f"{verb} {path} is not behind the mesh token"
    schemas = spec["components"]["schemas"]
    for name in ("NewCase", "Reason", "Resolution", "Reassign", "TokenRequest"):
        assert schemas[name].get("examples"), f"{name} has no example"
