"""Notice lifecycle end to end: NCB request, GS screening and review, signed fan-out, cancel, hits, expiry.

Real nats-server, real databases (SQLite and PostgreSQL), real signatures. Distribution mode
`all` fans out to all 196 NCBs; envelopes for offices not started here simply wait in the stream.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from nats.aio.msg import Msg

from barriers import caught_up
from conftest import MeshFactory
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.clock import FakeClock
from interpol_mesh.notices.store import expire_due
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until

NCBS = ("ncb.fr", "ncb.de", "ncb.es", "ncb.ar", "ncb.br")

RED: dict[str, Any] = {
    "notice_type": "red",
    "title": "Recherché pour homicide volontaire",
    "person": {"family_name": "DUPONT", "given_names": "Marc", "sex": "male", "nationalities": ["FR"]},
    "person_status": "charged",
    "offence": {
        "description": "Homicide volontaire commis à Lyon le 3 mars 2025.",
        "category": "homicide",
        "law_reference": "Code pénal, art. 221-1",
        "max_penalty_years": 30,
    },
    "purpose": "Localiser et arrêter provisoirement en vue d'extradition.",
    "legal_basis": "Mandat d'arrêt du juge d'instruction de Lyon",
    "arrest_warrant": {
        "reference": "MA-2025-0042",
        "issuing_authority": "Tribunal judiciaire de Lyon",
        "issued_on": "2025-03-10",
    },
    "distribution": {"mode": "all"},
}


def red(**changes: Any) -> dict[str, Any]:
    return {**RED, **changes}


async def request_notice(mesh: TestMesh, office: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await mesh.client(office).post(
        "/v1/notice-requests", json={"language": "fr-FR", "priority": "urgent", "body": body}
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


async def notice_at(mesh: TestMesh, office: str, notice_id: str, status: str | None = None) -> dict[str, Any]:
    """Wait until `office` holds the notice (in `status`, if given) and return it."""

    async def held() -> dict[str, Any] | None:
        response = await mesh.client(office).get(f"/v1/notices/{notice_id}")
        if response.status_code != 200:
            return None
        notice: dict[str, Any] = response.json()
        return notice if status is None or notice["status"] == status else None

    result: dict[str, Any] = await wait_until(held, what=f"{office} holding {notice_id} as {status or 'any status'}")
    return result


async def decide(mesh: TestMesh, notice_id: str, decision: str, reason: str | None = None) -> httpx.Response:
    body = {"decision": decision, "reviewer": "ndtf.martin", "reason": reason}
    return await mesh.client("gs").post(f"/v1/notices/{notice_id}/decision", json=body)


async def outbox_drained(mesh: TestMesh, office: str) -> None:
    o = tables.outbox
    pending = sa.select(sa.func.count()).select_from(o).where(o.c.published_at.is_(None))
    await wait_until(lambda: _is_zero(mesh.scalar(office, pending)), what=f"{office} outbox published")


async def _is_zero(value: Any) -> bool:
    return await value == 0


async def test_red_notice_with_deny_list_reaches_every_allowed_ncb_and_not_one_byte_reaches_germany(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("gs", *NCBS)
    watcher = await mesh.connect_as(ADMIN_USER)  # a wiretap sees every byte on the bus
    seen: dict[str, list[Msg]] = {"ncb_de": [], "ncb_es": []}

    async def collect(msg: Msg) -> None:
        seen[msg.subject.rsplit(".", 1)[1]].append(msg)

    try:
        for token in seen:
            await watcher.subscribe(f"mesh.v1.direct.*.{token}", cb=collect)
            await watcher.subscribe(f"mesh.v1.notice.{token}", cb=collect)
        await watcher.flush()

        accepted = await request_notice(mesh, "ncb.fr", red(distribution={"mode": "deny", "countries": ["DE"]}))
        notice_id = accepted["notice_id"]
        assert accepted["status"] == "submitted" and accepted["recipients"] == ["gs"]
        assert accepted["preliminary"] == {"missing": [], "threshold_issues": []}

        at_gs = await notice_at(mesh, "gs", notice_id, "pending-review")
        assert at_gs["screening"] == {
            "missing": [],
            "threshold_issues": [],
            "article3_flags": [],
            "auto_checks_passed": True,
        }
        queue = (await mesh.client("gs").get("/v1/review-queue")).json()
        assert [i["notice_id"] for i in queue["items"]] == [notice_id]
        assert (await notice_at(mesh, "ncb.fr", notice_id))["status"] == "submitted"

        published = await decide(mesh, notice_id, "publish")  # screening passed: no reason needed
        assert published.status_code == 200, published.text
        event_id = published.json()["message_id"]
        recipients = published.json()["recipients"]
        assert len(recipients) == 196 and "ncb.de" not in recipients and {"ncb.fr", "ccc"} <= set(recipients)

        for office in ("ncb.fr", "ncb.es", "ncb.ar", "ncb.br"):
            copy = await notice_at(mesh, office, notice_id, "published")
            assert copy["requesting_office"] == "ncb.fr" and copy["notice_type"] == "red"
            assert copy["distribution"] == {"mode": "deny", "countries": ["DE"], "regions": []}
            assert copy["expires_at"] is not None and copy["screening"] is None
            received = (await mesh.client(office).get(f"/v1/inbox/{event_id}")).json()
            assert received["sender"] == "gs" and received["kind"] == "notice-event"
            assert received["verification"]["key_id"].startswith("gs/")
        assert (await mesh.client("gs").get("/v1/review-queue")).json()["items"] == []

        await outbox_drained(mesh, "gs")
        await caught_up(mesh, "ncb.de", "ncb.es")  # what the GS published is stored and processed
        await watcher.flush()  # and the wiretap got every byte the server routed to it before this
        assert seen["ncb_de"] == [], "ncb.de received bytes on its subject"
        assert any(m.subject == "mesh.v1.notice.ncb_es" for m in seen["ncb_es"]), "control subscriber saw nothing"
        for table in (tables.notices, tables.inbox):
            assert await mesh.scalar("ncb.de", sa.select(sa.func.count()).select_from(table)) == 0
    finally:
        await watcher.close()


async def test_article3_flagged_request_waits_for_a_reviewer_and_needs_a_reason_to_publish(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.es")
    political = red(
        title="Wanted for political activity",
        offence={
            **RED["offence"],
            "description": "Political activity and organising a protest against the government.",
        },
        distribution={"mode": "allow", "countries": ["ES"]},
    )
    notice_id = (await request_notice(mesh, "ncb.fr", political))["notice_id"]
    at_gs = await notice_at(mesh, "gs", notice_id, "pending-review")
    flags = at_gs["screening"]["article3_flags"]
    assert {f["term"] for f in flags} == {"political activit*", "protest*"}
    assert {f["field"] for f in flags} == {"title", "offence.description"}
    assert at_gs["screening"]["auto_checks_passed"] is False

    await outbox_drained(mesh, "gs")
    await caught_up(mesh, "gs", "ncb.fr")  # nothing happens on its own: still waiting, nothing sent
    assert (await notice_at(mesh, "gs", notice_id))["status"] == "pending-review"
    assert (await notice_at(mesh, "ncb.fr", notice_id))["status"] == "submitted"
    s = tables.sent
    assert await mesh.scalar("gs", sa.select(sa.func.count()).select_from(s).where(s.c.kind == "notice-event")) == 0

    for reason in (None, "   "):
        refused = await decide(mesh, notice_id, "publish", reason)
        assert refused.status_code == 422, refused.text
        assert "Article 3" in refused.json()["detail"]
    assert (await notice_at(mesh, "gs", notice_id))["status"] == "pending-review"

    ok = await decide(
        mesh, notice_id, "publish", "Reviewed: ordinary-law homicide predominates; the wording is the NCB's."
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["recipients"] == ["ccc", "ncb.es", "ncb.fr"]
    decided = await notice_at(mesh, "gs", notice_id, "published")
    assert decided["reviewer"] == "ndtf.martin" and decided["decision_reason"].startswith("Reviewed")
    await notice_at(mesh, "ncb.es", notice_id, "published")
    assert (await decide(mesh, notice_id, "refuse", "too late")).status_code == 409


async def test_reviewer_refusal_tells_the_requesting_ncb_why(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr")
    body = red(offence={**RED["offence"], "description": "Blasphemy on social media"})
    notice_id = (await request_notice(mesh, "ncb.fr", body))["notice_id"]
    await notice_at(mesh, "gs", notice_id, "pending-review")
    assert (await decide(mesh, notice_id, "refuse")).status_code == 422
    refused = await decide(mesh, notice_id, "refuse", "Predominantly religious character (Art. 3).")
    assert refused.status_code == 200, refused.text
    copy = await notice_at(mesh, "ncb.fr", notice_id, "refused")
    assert copy["decision_reason"].startswith("Predominantly religious character")
    assert [h["action"] for h in copy["history"]] == ["submitted", "refused"]
    assert copy["history"][1]["message_id"] == refused.json()["message_id"]


async def test_missing_fields_are_refused_automatically_and_below_threshold_goes_to_review(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr")
    incomplete = red(legal_basis=None, arrest_warrant=None, person_status="not-applicable")
    accepted = await request_notice(mesh, "ncb.fr", incomplete)
    assert accepted["preliminary"]["missing"] == ["legal_basis", "arrest_warrant", "person_status"]
    at_gs = await notice_at(mesh, "gs", accepted["notice_id"], "refused")
    assert at_gs["screening"]["missing"] == ["legal_basis", "arrest_warrant", "person_status"]
    assert at_gs["reviewer"] is None and "required fields are missing" in at_gs["decision_reason"]
    copy = await notice_at(mesh, "ncb.fr", accepted["notice_id"], "refused")
    assert "legal_basis, arrest_warrant, person_status" in copy["decision_reason"]

    low = red(person_status="convicted", offence={**RED["offence"], "sentence_months": 4})
    notice_id = (await request_notice(mesh, "ncb.fr", low))["notice_id"]
    at_gs = await notice_at(mesh, "gs", notice_id, "pending-review")
    assert at_gs["screening"]["missing"] == []
    assert [i["field"] for i in at_gs["screening"]["threshold_issues"]] == ["offence.sentence_months"]
    assert "below the 6 months" in at_gs["screening"]["threshold_issues"][0]["detail"]
    no_reason = await decide(mesh, notice_id, "publish")
    assert no_reason.status_code == 422 and "offence.sentence_months" in no_reason.json()["detail"]

    bad_list = await mesh.client("ncb.fr").post(
        "/v1/notice-requests", json={"body": red(distribution={"mode": "deny", "countries": ["XX"]})}
    )
    assert bad_list.status_code == 422 and "XX" in bad_list.text


async def test_cancel_reaches_exactly_the_offices_that_received_the_publication(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.es", "ncb.ar", "ncb.de")
    body = red(distribution={"mode": "allow", "countries": ["ES"], "regions": ["americas"]})
    notice_id = (await request_notice(mesh, "ncb.fr", body))["notice_id"]
    await notice_at(mesh, "gs", notice_id, "pending-review")
    assert (await mesh.client("gs").post(f"/v1/notices/{notice_id}/cancel", json={"reason": "x"})).status_code == 409
    published = (await decide(mesh, notice_id, "publish", "Thresholds met.")).json()
    for office in ("ncb.fr", "ncb.es", "ncb.ar"):
        await notice_at(mesh, office, notice_id, "published")

    cancel = await mesh.client("gs").post(
        f"/v1/notices/{notice_id}/cancel", json={"reason": "Person arrested and extradited.", "reviewer": "ndtf.martin"}
    )
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["recipients"] == published["recipients"]
    for office in ("ncb.fr", "ncb.es", "ncb.ar"):
        copy = await notice_at(mesh, office, notice_id, "cancelled")
        assert copy["decision_reason"] == "Person arrested and extradited."
        assert [h["action"] for h in copy["history"]][-1] == "cancelled"
    at_gs = await notice_at(mesh, "gs", notice_id, "cancelled")
    assert at_gs["decision_reason"] == "Thresholds met."  # the publish decision is kept; the cancel is in history
    assert [(h["action"], h["reason"]) for h in at_gs["history"]][-2:] == [
        ("published", "Thresholds met."),
        ("cancelled", "Person arrested and extradited."),
    ]
    assert await mesh.scalar("ncb.de", sa.select(sa.func.count()).select_from(tables.notices)) == 0
    assert (
        await mesh.client("gs").post(f"/v1/notices/{notice_id}/cancel", json={"reason": "again"})
    ).status_code == 409
    hit = {"notice_id": notice_id, "hit_at": "2026-01-05T10:00:00Z", "place": "Madrid", "description": "Match"}
    assert (await mesh.client("ncb.es").post("/v1/hits", json={"body": hit})).status_code == 409


async def test_hit_report_reaches_the_requesting_ncb_and_the_ccc(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ccc", "ncb.fr", "ncb.es")
    notice_id = (await request_notice(mesh, "ncb.fr", red(distribution={"mode": "allow", "countries": ["ES"]})))[
        "notice_id"
    ]
    await notice_at(mesh, "gs", notice_id, "pending-review")
    assert (await decide(mesh, notice_id, "publish")).status_code == 200
    await notice_at(mesh, "ncb.es", notice_id, "published")

    hit = {
        "notice_id": notice_id,
        "hit_at": "2026-01-05T10:30:00Z",
        "place": "Aeropuerto de Madrid-Barajas",
        "description": "Coincidencia de pasaporte y huellas.",
        "subject_detained": True,
    }
    sent = await mesh.client("ncb.es").post("/v1/hits", json={"language": "es-ES", "body": hit})
    assert sent.status_code == 202, sent.text
    assert sent.json()["recipients"] == ["ccc", "ncb.fr"]
    message_id = sent.json()["message_id"]
    for office in ("ncb.fr", "ccc"):

        async def arrived(office: str = office) -> bool:
            return (await mesh.client(office).get(f"/v1/inbox/{message_id}")).status_code == 200

        await wait_until(arrived, what=f"hit report at {office}")
        report = (await mesh.client(office).get(f"/v1/inbox/{message_id}")).json()
        assert report["kind"] == "hit-report" and report["sender"] == "ncb.es" and report["priority"] == "urgent"
        assert report["body"]["requesting_office"] == "ncb.fr" and report["body"]["country"] == "ES"
        assert report["verification"]["key_id"].startswith("ncb.es/")
    requester_copy = await notice_at(mesh, "ncb.fr", notice_id)
    assert requester_copy["history"][-1]["action"] == "hit"
    unknown = await mesh.client("ncb.es").post("/v1/hits", json={"body": {**hit, "notice_id": "nope"}})
    assert unknown.status_code == 404


async def test_published_notices_expire_after_five_years_everywhere(make_mesh: MeshFactory) -> None:
    clock = FakeClock()
    mesh = make_mesh(clock=clock)
    await mesh.start("gs", "ncb.fr", "ncb.es")
    notice_id = (await request_notice(mesh, "ncb.fr", red(distribution={"mode": "allow", "countries": ["ES"]})))[
        "notice_id"
    ]
    await notice_at(mesh, "gs", notice_id, "pending-review")
    assert (await decide(mesh, notice_id, "publish")).status_code == 200
    copy = await notice_at(mesh, "ncb.es", notice_id, "published")
    assert copy["expires_at"].startswith(str(clock.now().year + 5))

    for office in ("gs", "ncb.es"):
        async with mesh.ctx(office).transaction() as uow:
            assert await expire_due(uow.conn, clock.now() + timedelta(days=365)) == []
    clock.advance(timedelta(days=5 * 366))
    for office in ("gs", "ncb.es"):
        async with mesh.ctx(office).transaction() as uow:
            assert await expire_due(uow.conn, clock.now()) == [notice_id]
        assert (await notice_at(mesh, office, notice_id))["status"] == "expired"
    listed = (await mesh.client("ncb.es").get("/v1/notices", params={"status": "expired", "notice_type": "red"})).json()
    assert [n["notice_id"] for n in listed["items"]] == [notice_id]
