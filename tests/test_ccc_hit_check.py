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

from ccc_support import case_for_message, events_of, send_to_ccc
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


async def forged_case(mesh: TestMesh, sender: str, body: HitReport) -> dict[str, Any]:
    """An insider at `sender` signs the report itself and sends it straight to the CCC, as critical."""
    mid = await send_to_ccc(mesh, sender, body, kind="hit-report", language="es", priority="critical")
    case: dict[str, Any] = await wait_until(lambda: case_for_message(mesh, mid), what=f"case for {mid}")
    return case


async def notice_check(mesh: TestMesh, case: dict[str, Any]) -> dict[str, Any]:
    opened = await events_of(mesh, case["case_id"], "opened")
    check: dict[str, Any] = opened[0]["data"]["notice"]
    return check


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
    for code, (sender, body) in forged.items():
        case = await forged_case(mesh, sender, body)
        assert case["priority"] == "routine", code
        assert case["policy"]["priority"] == "routine"
        assert case["title"].startswith("Notice unconfirmed: Hit on")
        assert "sent as critical, opened as routine" in case["text"]
        check = await notice_check(mesh, case)
        assert check["confirmed"] is False and check["code"] == code and check["sent_as"] == "critical"
        assert notice_id in check["reason"] or "019c9f5e-2a00-7000-8000-000000099999" in check["reason"]

    # Once cancelled, the notice no longer confirms a hit, even from an office that was sent it.
    assert (
        await mesh.client("gs").post(f"/v1/notices/{notice_id}/cancel", json={"reason": "arrested"})
    ).status_code == 200
    await published_at_ccc(mesh, notice_id, "cancelled")
    late = await forged_case(mesh, "ncb.es", report(notice_id))
    assert late["priority"] == "routine"
    assert await notice_check(mesh, late) == {
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
