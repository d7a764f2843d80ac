"""A hit report pages the CCC's duty officers only if it names a notice the CCC can confirm.

The NCB API already refuses a hit on a notice it does not hold as published (404/409, see
test_notices.py), but an insider with an NCB's key signs any body over the bus. The CCC holds a
copy of every published notice (the GS sends them all to it) and checks the report against it;
a report it cannot confirm still opens a case, at `routine`, marked unconfirmed and audited.
Real nats-server, both databases, real signatures.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ccc_support import bearer, case_for_message, events_of, send_to_ccc
from conftest import MeshFactory
from interpol_mesh.audit.tables import audit_log
from interpol_mesh.clock import FakeClock
from interpol_mesh.messages import HitReport
from interpol_mesh.notices import store as notices
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until
from test_notices import decide, notice_at, red, request_notice

TUESDAY_0300 = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)


def report(notice_id: str, **changes: Any) -> HitReport:
    fields: dict[str, Any] = {
        "notice_id": notice_id, "notice_type": "red", "requesting_office": "ncb.fr", "hit_at": TUESDAY_0300,
        "country": "ES", "place": "Aeropuerto de Madrid-Barajas", "description": "Coincidencia de huellas.",
        "subject_detained": True,
    }  # fmt: skip
    return HitReport.model_validate({**fields, **changes})


async def notice_check(mesh: TestMesh, case: dict[str, Any]) -> dict[str, Any]:
    opened = await events_of(mesh, case["case_id"], "opened")
    check: dict[str, Any] = opened[0]["data"]["notice"]
    return check


async def forged_report(mesh: TestMesh, sender: str, body: HitReport) -> tuple[dict[str, Any], dict[str, Any]]:
    """The case a forged report opened or joined (related.py: a report on a notice with an open case
    is linked to it), and how intake took the report: priority, title, text and notice check, from
    the case it opened or from its `linked` event."""
    mid = await send_to_ccc(mesh, sender, body, kind="hit-report", language="es", priority="critical")
    case: dict[str, Any] = await wait_until(lambda: case_for_message(mesh, mid), what=f"case for {mid}")
    if case["message_id"] == mid:
        taken = {k: case[k] for k in ("priority", "title", "text")}
        return case, {**taken, "policy": case["policy"]["priority"], "notice": await notice_check(mesh, case)}
    [link] = [e for e in await events_of(mesh, case["case_id"], "linked") if e["data"]["message_id"] == mid]
    return case, {k: link["data"][k] for k in ("priority", "title", "text", "notice")}


async def published_at_ccc(mesh: TestMesh, notice_id: str, status: str = "published") -> None:
    async def held() -> bool:
        async with mesh.ctx("ccc").engine.connect() as conn:
            row = await notices.get_notice(conn, notice_id)
        return row is not None and row.status == status

    await wait_until(held, what=f"the CCC's copy of {notice_id} as {status}")


async def test_hit_reports_are_confirmed_against_the_ccc_copy_of_the_notice(make_mesh: MeshFactory) -> None:
    mesh = make_mesh(clock=FakeClock(TUESDAY_0300))
    await mesh.start("gs", "ccc", "ncb.fr", "ncb.es", "ncb.de")
    # A Red Notice of France that only Spain may see (and the CCC, whatever the distribution).
    notice_id = (await request_notice(mesh, "ncb.fr", red(distribution={"mode": "allow", "countries": ["ES"]})))[
        "notice_id"
    ]
    await notice_at(mesh, "gs", notice_id, "pending-review")
    published = await decide(mesh, notice_id, "publish")
    assert published.status_code == 200, published.text
    assert published.json()["recipients"] == ["ccc", "ncb.es", "ncb.fr"]
    await published_at_ccc(mesh, notice_id)
    await notice_at(mesh, "ncb.es", notice_id, "published")

    # The real path: Spain reports through its API; the CCC confirms and keeps the priority.
    hit = {"notice_id": notice_id, "hit_at": "2026-03-03T02:55:00Z", "place": "Madrid", "description": "Coincidencia."}
    sent = await mesh.client("ncb.es").post("/v1/hits", json={"language": "es", "priority": "critical", "body": hit})
    assert sent.status_code == 202, sent.text
    real = await wait_until(lambda: case_for_message(mesh, sent.json()["message_id"]), what="the real hit's case")
    assert real["priority"] == "critical" and not real["title"].startswith("Notice unconfirmed")
    assert await notice_check(mesh, real) == {"confirmed": True}

    # Forged over the bus: each one is opened, at routine, marked and explained, never critical.
    forged = {
        "notice-unknown": ("ncb.es", report("019c9f5e-2a00-7000-8000-000000099999")),
        "notice-mismatch": ("ncb.es", report(notice_id, notice_type="yellow")),
        "sender-not-recipient": ("ncb.de", report(notice_id)),  # Germany was never sent this notice
    }
    # A forged report on the real notice joins the real hit's open case (related.py), still taken as
    # routine: it raises nothing. One on an unknown notice opens its own routine case.
    for code, (sender, body) in forged.items():
        case, taken = await forged_report(mesh, sender, body)
        assert taken["priority"] == "routine", code
        if code == "notice-unknown":
            assert case["priority"] == "routine" and taken["policy"] == "routine"
        else:
            assert case["case_id"] == real["case_id"], code
        assert taken["title"].startswith("Notice unconfirmed: Hit on")
        assert "sent as critical, opened as routine" in taken["text"]
        check = taken["notice"]
        assert check["confirmed"] is False and check["code"] == code and check["sent_as"] == "critical"
        assert notice_id in check["reason"] or "019c9f5e-2a00-7000-8000-000000099999" in check["reason"]
    assert await events_of(mesh, real["case_id"], "priority-raised") == []

    # Once cancelled, the notice no longer confirms a hit, even from an office that was sent it.
    assert (
        await mesh.client("gs").post(f"/v1/notices/{notice_id}/cancel", json={"reason": "arrested"})
    ).status_code == 200
    await published_at_ccc(mesh, notice_id, "cancelled")
    late, taken = await forged_report(mesh, "ncb.es", report(notice_id))
    assert taken["priority"] == "routine" and late["case_id"] == real["case_id"]
    assert taken["notice"] == {
        "confirmed": False, "code": "notice-not-published", "reason": f"notice {notice_id} is cancelled",
        "sent_as": "critical",
    }  # fmt: skip

    audited = await mesh.rows("ccc", sa.select(audit_log).where(audit_log.c.event == "hit-unconfirmed"))
    assert sorted(r.result for r in audited) == sorted([*forged, "notice-not-published"])
    assert {r.sender for r in audited} == {"ncb.es", "ncb.de"}
    # The reports themselves are kept as evidence in the CCC's inbox.
    stored = await mesh.scalar(
        "ccc", sa.select(sa.func.count()).select_from(tables.inbox).where(tables.inbox.c.kind == "hit-report")
    )
    assert stored == 5

    # With no open case on the notice, a forged report opens its own case, at routine.
    done = await mesh.client("ccc").post(
        f"/v1/cases/{real['case_id']}/resolve", headers=bearer(mesh, real["assigned_to"]),
        json={"resolution": "Subject handed over."},
    )  # fmt: skip
    assert done.status_code == 200, done.text
    alone, taken = await forged_report(mesh, "ncb.es", report(notice_id))
    assert alone["case_id"] != real["case_id"] and alone["message_id"] is not None
    assert (alone["priority"], taken["policy"], taken["notice"]["code"]) == (
        "routine",
        "routine",
        "notice-not-published",
    )
    assert alone["title"].startswith("Notice unconfirmed: Hit on")
