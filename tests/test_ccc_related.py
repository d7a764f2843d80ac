"""Related cases: reports about one notice, person, document or vehicle join the open case.

Three hit reports on one notice are one case with three hits on its timeline (the `opened` event
and two `linked` ones), each report's envelope findable; a redelivered envelope is not linked
twice; a message that references the notice joins too; a report of higher priority raises the
case; once resolved, the next report opens a new case that names the old one. Real nats-server,
both databases, real signatures.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from ccc_support import (
    bearer,
    case_for_message,
    events_of,
    hit_report,
    publish_to_ccc,
    send_to_ccc,
)
from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.messages import FreeTextMessage, Person
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until
from interpol_offices.ccc_router import intake, related
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.cases import CaseConflict
from interpol_offices.ccc_router.runtime import runtime_of
from interpol_offices.ccc_router.workflow import Intake

TUESDAY_0300 = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
NOTICE = "019c9f5e-2a00-7000-8000-000000000101"
NOTICE_2 = "019c9f5e-2a00-7000-8000-000000000102"
NOTICE_3 = "019c9f5e-2a00-7000-8000-000000000103"


async def case_of(mesh: TestMesh, mid: str) -> dict[str, Any]:
    case: dict[str, Any] = await wait_until(lambda: case_for_message(mesh, mid), what=f"the case of {mid}")
    return case


async def linked(mesh: TestMesh, case_id: str, count: int) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]]:
        found = await events_of(mesh, case_id, "linked")
        return found if len(found) >= count else []

    found: list[dict[str, Any]] = await wait_until(enough, what=f"{count} linked reports on {case_id}")
    return found


async def cases_count(mesh: TestMesh) -> int:
    return int(await mesh.scalar("ccc", sa.select(sa.func.count()).select_from(t.cases)))


def hit(description: str, notice_id: str = NOTICE) -> Any:
    return hit_report(description, place="Aeropuerto de Madrid-Barajas", country="ES", at=TUESDAY_0300,
                      notice_id=notice_id)  # fmt: skip


async def test_reports_on_one_notice_are_one_case_and_a_resolved_case_is_named_by_the_next(
    make_mesh: MeshFactory,
) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "gs", "ncb.es", "ncb.de")
    await publish_to_ccc(mesh, NOTICE)

    first = await send_to_ccc(mesh, "ncb.es", hit("Coincidencia de huellas en el control."), kind="hit-report",
                              language="es", priority="routine")  # fmt: skip
    case = await case_of(mesh, first)
    cid = case["case_id"]
    assert case["priority"] == "routine" and case["message_id"] == first

    clock.advance(timedelta(minutes=5))
    second = await send_to_ccc(mesh, "ncb.de", hit("Treffer bei der Grenzkontrolle."), kind="hit-report",
                               language="de", priority="urgent")  # fmt: skip
    [link] = await linked(mesh, cid, 1)
    assert link["actor"] == "ncb.de" and f"notice:{NOTICE}" in link["reason"]
    assert {k: link["data"][k] for k in ("message_id", "sender", "kind", "priority", "subjects")} == {
        "message_id": second, "sender": "ncb.de", "kind": "hit-report", "priority": "urgent",
        "subjects": [f"notice:{NOTICE}"],
    }  # fmt: skip
    assert link["data"]["notice"] == {"confirmed": True}
    assert link["data"]["text"].startswith("Treffer bei der Grenzkontrolle.")
    assert link["data"]["title"].startswith(f"Hit on red notice {NOTICE}")

    # The urgent link raised the routine case: the routine deadline is cancelled, urgent's planned from now.
    raised = await wait_until(lambda: events_of(mesh, cid, "priority-raised"), what="the priority raise")
    assert (raised[0]["data"]["previous"], raised[0]["data"]["priority"]) == ("routine", "urgent")
    row = await case_for_message(mesh, second)
    assert row is not None and row["case_id"] == cid
    assert (row["priority"], row["policy"]["priority"]) == ("urgent", "urgent")
    assert set(row["involved"]) == {"ncb.es", "ncb.de", "ncb.fr"}
    d = t.deadlines
    rows = await mesh.rows("ccc", sa.select(d).where(d.c.case_id == cid).order_by(d.c.deadline_id))
    assert [r.outcome for r in rows if r.cancelled_at is not None] == [
        f"cancelled: priority raised to urgent by linked {second}"
    ]
    pending = [r for r in rows if r.cancelled_at is None]
    due = [r.due_at if r.due_at.tzinfo else r.due_at.replace(tzinfo=UTC) for r in pending]
    assert [x - clock.now() for x in due] == [timedelta(minutes=m) for m in (30, 60, 90)]

    # The third hit (same priority as the case now) links without raising anything.
    third = await send_to_ccc(mesh, "ncb.es", hit("Segunda coincidencia, terminal 4."), kind="hit-report",
                              language="es", priority="urgent")  # fmt: skip
    links = await linked(mesh, cid, 2)
    assert [e["data"]["message_id"] for e in links] == [second, third]
    assert len(await events_of(mesh, cid, "priority-raised")) == 1
    assert await cases_count(mesh) == 1
    for mid in (first, second, third):
        assert (await case_of(mesh, mid))["case_id"] == cid

    # A message that references the notice joins the case too.
    ask = FreeTextMessage(title="Extradition", text="Please confirm the warrant behind this notice.",
                          references=(NOTICE,))  # fmt: skip
    asked = await send_to_ccc(mesh, "ncb.de", ask, kind="message", language="en", priority="urgent")
    links = await linked(mesh, cid, 3)
    assert (links[2]["data"]["message_id"], links[2]["data"]["kind"]) == (asked, "message")

    # A redelivered envelope (the same signed bytes again) is not linked twice: the inbox refuses
    # it as a replay, and the link table itself holds one row per message id.
    o = tables.outbox
    [(subject, data)] = await mesh.rows("ncb.de", sa.select(o.c.subject, o.c.data).where(o.c.message_id == second))
    nc = await mesh.connect_as("ncb.de")
    try:
        await nc.jetstream().publish(subject, data, headers={"Nats-Msg-Id": f"again-{second}"})
    finally:
        await nc.close()
    q = tables.quarantine
    replay = await wait_until(
        lambda: mesh.rows("ccc", sa.select(q).where(q.c.message_id == second)), what="the redelivery refused"
    )
    assert replay[0].reason == "replay"
    ctx = mesh.ctx("ccc")
    again = Intake(source="bus", kind="hit-report", title="again", text="again", priority="critical",
                   language_tag="de", message_id=second, sender="ncb.de", subjects=(f"notice:{NOTICE}",))  # fmt: skip
    async with ctx.transaction() as uow:
        open_case = await related.open_case_about(uow.conn, again.subjects)
        assert open_case is not None and open_case.case_id == cid
        assert await related.link(uow, runtime_of(ctx), open_case, again) is None  # already linked: nothing written
    assert len(await events_of(mesh, cid, "linked")) == 3
    k = t.case_links
    assert await mesh.scalar("ccc", sa.select(sa.func.count()).select_from(k).where(k.c.case_id == cid)) == 3

    # The case detail shows what it is about and every linked envelope.
    holder = row["assigned_to"]
    detail = (await mesh.client("ccc").get(f"/v1/cases/{cid}", headers=bearer(mesh, holder))).json()
    assert f"notice:{NOTICE}" in detail["subjects"]
    assert [(x["message_id"], x["sender"], x["priority"]) for x in detail["links"]] == [
        (second, "ncb.de", "urgent"), (third, "ncb.es", "urgent"), (asked, "ncb.de", "urgent"),
    ]  # fmt: skip

    # Resolved: the next report on the notice opens a new case, which names the old one.
    done = await mesh.client("ccc").post(f"/v1/cases/{cid}/resolve", headers=bearer(mesh, holder),
                                         json={"resolution": "Subject handed over to the Spanish police."})  # fmt: skip
    assert done.status_code == 200, done.text
    later = await send_to_ccc(mesh, "ncb.es", hit("Nueva coincidencia un mes después."), kind="hit-report",
                              language="es", priority="urgent")  # fmt: skip
    new = await case_of(mesh, later)
    assert new["case_id"] != cid and new["status"] == "dispatched" and new["message_id"] == later
    opened = (await events_of(mesh, new["case_id"], "opened"))[0]
    assert opened["data"]["related_cases"] == [cid]
    assert (await case_for_message(mesh, first))["status"] == "resolved"  # type: ignore[index]


async def test_a_person_a_document_or_a_vehicle_relates_reports_and_an_operator_case(make_mesh: MeshFactory) -> None:
    mesh = make_mesh(clock=FakeClock(TUESDAY_0300))
    await mesh.start("ccc", "gs", "ncb.es", "ncb.fr")
    # Two notices about one person: names written differently (order, accents, case), one birth date.
    await publish_to_ccc(
        mesh, NOTICE_2, person=Person(family_name="Núñez García", given_names="José", date_of_birth=date(1980, 5, 1))
    )
    await publish_to_ccc(mesh, NOTICE_3,
                         person=Person(family_name="JOSE", given_names="nunez garcia", date_of_birth=date(1980, 5, 1)))  # fmt: skip
    await publish_to_ccc(mesh, "019c9f5e-2a00-7000-8000-000000000104",  # same names, another person
                         person=Person(family_name="Núñez García", given_names="José", date_of_birth=date(1991, 1, 9)))  # fmt: skip
    a = await case_of(mesh, await send_to_ccc(mesh, "ncb.es", hit("Coincidencia.", NOTICE_2), kind="hit-report",
                                              language="es", priority="urgent"))  # fmt: skip
    b = await send_to_ccc(mesh, "ncb.es", hit("Coincidencia.", NOTICE_3), kind="hit-report", language="es",
                          priority="urgent")  # fmt: skip
    [link] = await linked(mesh, a["case_id"], 1)
    person = "person:garcia jose nunez:1980-05-01"
    assert (link["data"]["message_id"], link["data"]["subjects"]) == (b, [person])
    assert f"notice:{NOTICE_3}" in link["data"]["new_subjects"]
    other = await case_of(mesh, await send_to_ccc(mesh, "ncb.es", hit("Coincidencia.", "019c9f5e-2a00-7000-8000-000000000104"),
                                                  kind="hit-report", language="es", priority="urgent"))  # fmt: skip
    assert other["case_id"] != a["case_id"]

    # A passport number, a VIN: messages about the same one are one case.
    passport = await case_of(mesh, await send_to_ccc(
        mesh, "ncb.fr", FreeTextMessage(title="Faux passeport", text="Passeport P4711332 saisi à Roissy."),
        kind="message", language="fr", priority="urgent"))  # fmt: skip
    again = await send_to_ccc(mesh, "ncb.es", FreeTextMessage(title="Pasaporte", text="El pasaporte P4711332 es robado."),
                              kind="message", language="es", priority="urgent")  # fmt: skip
    [doc] = await linked(mesh, passport["case_id"], 1)
    assert (doc["data"]["message_id"], doc["data"]["subjects"]) == (again, ["document:P4711332"])
    car = await case_of(mesh, await send_to_ccc(
        mesh, "ncb.fr", FreeTextMessage(title="Véhicule volé", text="VIN 1HGCM82633A004352 repéré au port."),
        kind="message", language="fr", priority="urgent"))  # fmt: skip
    assert car["case_id"] != passport["case_id"]
    seen = await send_to_ccc(mesh, "ncb.es", FreeTextMessage(title="Vehículo", text="Visto 1HGCM82633A004352 en Irún."),
                             kind="message", language="es", priority="urgent")  # fmt: skip
    [vin] = await linked(mesh, car["case_id"], 1)
    assert (vin["data"]["message_id"], vin["data"]["subjects"]) == (seen, ["vehicle:1HGCM82633A004352"])

    # An operator's case always opens (the operator chose to) and its documents relate later reports to it.
    made = await mesh.client("ccc").post(
        "/v1/cases", headers=bearer(mesh, "sg.tan"),
        json={"title": "Phone call", "text": "Caller reports passport K9988776 stolen.", "priority": "urgent",
              "language": "en"},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["subjects"] == ["document:K9988776"]
    report = await send_to_ccc(mesh, "ncb.es", FreeTextMessage(title="Passport", text="K9988776 used at Madrid airport."),
                               kind="message", language="en", priority="urgent")  # fmt: skip
    assert (await case_of(mesh, report))["case_id"] == made.json()["case_id"]


async def test_a_higher_priority_link_on_an_acknowledged_case_brings_its_shorter_ack_timeout(
    make_mesh: MeshFactory,
) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "gs", "ncb.es", "ncb.de")
    await publish_to_ccc(mesh, NOTICE)
    case = await case_of(mesh, await send_to_ccc(mesh, "ncb.es", hit("Coincidencia."), kind="hit-report",
                                                 language="es", priority="routine"))  # fmt: skip
    cid = case["case_id"]
    ack = await mesh.client("ccc").post(f"/v1/cases/{cid}/acknowledge", headers=bearer(mesh, case["assigned_to"]))
    assert ack.status_code == 200, ack.text
    clock.advance(timedelta(minutes=10))
    await send_to_ccc(mesh, "ncb.de", hit("Treffer."), kind="hit-report", language="de", priority="urgent")
    await wait_until(lambda: events_of(mesh, cid, "priority-raised"), what="the priority raise")
    row = await case_for_message(mesh, case["message_id"])
    assert row is not None and (row["status"], row["priority"]) == ("acknowledged", "urgent")
    d = t.deadlines
    pending = await mesh.rows(
        "ccc", sa.select(d).where(d.c.case_id == cid, d.c.cancelled_at.is_(None), d.c.fired_at.is_(None))
    )
    # Still acknowledged: no paging levels, only urgent's 4 h acknowledgement timeout, from now.
    assert [(p.condition, p.due_at if p.due_at.tzinfo else p.due_at.replace(tzinfo=UTC)) for p in pending] == [
        ("ack-timeout", clock.now() + timedelta(minutes=240))
    ]
    metrics = runtime_of(mesh.ctx("ccc")).metrics
    assert metrics is not None and metrics.cases_linked.labels("urgent")._value.get() == 1.0


# Codes shaped like document numbers that are not documents: telex dates, a date-time group,
# flights, a virus, a standard, aircraft, upper-case id fragments.
NOT_DOCUMENTS = ("12MAR1985", "02DEC2026", "021430ZDEC26", "AF1234", "COVID19", "ISO9001", "A320NEO", "737MAX8",
                 "9F8E7D6C5B4A", "3ENE1990", "14AVR2026")  # fmt: skip


def test_only_a_number_introduced_as_a_document_is_a_document_subject() -> None:
    for code in NOT_DOCUMENTS:
        for text in (f"{code}", f"Subject seen {code} at the gate.", f"DOB {code} FLIGHT {code}"):
            assert related.identifier_subjects(text) == [], text
    for code in NOT_DOCUMENTS[:3]:  # dates, even after a document word, are dates
        assert related.identifier_subjects(f"passport {code}") == []
    for text in ("passport 12AB34567", "Passport no. 12AB34567", "PASSEPORT N° 12AB34567", "pasaporte número: 12AB34567",
                 "ID#12AB34567", "doc 12AB34567", "جواز سفر رقم 12AB34567"):  # fmt: skip
        assert related.identifier_subjects(text) == ["document:12AB34567"], text
    assert related.identifier_subjects("passport no. 123456789") == ["document:123456789"]
    assert related.identifier_subjects("VIN 1HGCM82633A004352 seen") == ["vehicle:1HGCM82633A004352"]
    assert related.identifier_subjects("12345678901234567 ABCDEFGHJKLMNPRST") == []  # all digits, all letters


async def test_a_shared_birth_date_or_flight_opens_two_cases_and_a_shared_passport_one(make_mesh: MeshFactory) -> None:
    mesh = make_mesh(clock=FakeClock(TUESDAY_0300))
    await mesh.start("ccc", "ncb.es", "ncb.fr")
    one = await case_of(mesh, await send_to_ccc(
        mesh, "ncb.fr", FreeTextMessage(title="Interpellation", text="DUPONT Marc né le 12MAR1985, vol AF1234, "
                                        "message 021430ZDEC26, vaccin COVID19, avion A320NEO."),
        kind="message", language="fr", priority="urgent"))  # fmt: skip
    two = await case_of(mesh, await send_to_ccc(
        mesh, "ncb.es", FreeTextMessage(title="Detención", text="LOPEZ Ana nacida 12MAR1985, vuelo AF1234, "
                                        "mensaje 021430ZDEC26, vacuna COVID19, avión A320NEO."),
        kind="message", language="es", priority="urgent"))  # fmt: skip
    assert one["case_id"] != two["case_id"]
    s = t.case_subjects
    assert await mesh.rows("ccc", sa.select(s).where(s.c.case_id.in_([one["case_id"], two["case_id"]]))) == []

    three = await case_of(mesh, await send_to_ccc(
        mesh, "ncb.fr", FreeTextMessage(title="Faux document", text="Passeport 12AB34567 saisi, né le 12MAR1985."),
        kind="message", language="fr", priority="urgent"))  # fmt: skip
    assert three["case_id"] not in (one["case_id"], two["case_id"])
    again = await send_to_ccc(mesh, "ncb.es", FreeTextMessage(title="Pasaporte", text="passport 12AB34567 used again."),
                              kind="message", language="en", priority="urgent")  # fmt: skip
    [doc] = await linked(mesh, three["case_id"], 1)
    assert (doc["data"]["message_id"], doc["data"]["subjects"]) == (again, ["document:12AB34567"])
    assert await cases_count(mesh) == 3


async def in_inbox(mesh: TestMesh, mid: str) -> None:
    i = tables.inbox
    await wait_until(lambda: mesh.rows("ccc", sa.select(i.c.message_id).where(i.c.message_id == mid)),
                     what=f"{mid} in the CCC's inbox")  # fmt: skip


async def test_a_routine_message_joins_an_open_case_and_a_case_resolved_meanwhile_is_never_joined(
    make_mesh: MeshFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    mesh = make_mesh(clock=FakeClock(TUESDAY_0300))
    await mesh.start("ccc", "ncb.es", "ncb.fr")
    ctx = mesh.ctx("ccc")
    case = await case_of(mesh, await send_to_ccc(
        mesh, "ncb.fr", FreeTextMessage(title="Faux passeport", text="Passeport P4711332 saisi à Roissy."),
        kind="message", language="fr", priority="urgent"))  # fmt: skip
    cid = case["case_id"]

    # A routine message about the open case's passport is more on a live case: linked, not raising it.
    info = await send_to_ccc(mesh, "ncb.es", FreeTextMessage(title="Información", text="El pasaporte P4711332 fue "
                                                             "expedido en Lyon."),
                             kind="message", language="es", priority="routine")  # fmt: skip
    [link] = await linked(mesh, cid, 1)
    assert (link["data"]["message_id"], link["data"]["priority"]) == (info, "routine")
    # A routine message about nothing open opens nothing.
    other = await send_to_ccc(mesh, "ncb.es", FreeTextMessage(title="Información", text="El pasaporte X9911223 "
                                                              "fue expedido en Lyon."),
                              kind="message", language="es", priority="routine")  # fmt: skip
    await in_inbox(mesh, other)
    assert await case_for_message(mesh, other) is None and await cases_count(mesh) == 1

    # Resolved between the lookup (a plain read) and the link: the link writes nothing and fails.
    async with ctx.transaction() as uow:
        stale = await related.open_case_about(uow.conn, ("document:P4711332",))
    assert stale is not None and stale.case_id == cid
    done = await mesh.client("ccc").post(f"/v1/cases/{cid}/resolve", headers=bearer(mesh, case["assigned_to"]),
                                         json={"resolution": "Passport seized and returned to France."})  # fmt: skip
    assert done.status_code == 200, done.text
    late = Intake(source="bus", kind="message", title="Pasaporte", text="P4711332 visto otra vez.", priority="urgent",
                  language_tag="es", involved=("ncb.es",), message_id="019c9f5e-2a00-7000-8000-00000000f001",
                  sender="ncb.es", subjects=("document:P4711332",))  # fmt: skip
    with pytest.raises(CaseConflict):
        async with ctx.transaction() as uow:
            await related.link(uow, runtime_of(ctx), stale, late)
    k = t.case_links
    assert await mesh.scalar("ccc", sa.select(sa.func.count()).select_from(k).where(k.c.case_id == cid)) == 1
    assert len(await events_of(mesh, cid, "linked")) == 1

    # Intake decides again on a fresh read: the report opens a new case naming the resolved one.
    reads: list[str] = []
    fresh = related.open_case_about

    async def stale_first(conn: Any, subjects: tuple[str, ...]) -> Any:
        reads.append("stale" if not reads else "fresh")
        return stale if len(reads) == 1 else await fresh(conn, subjects)

    monkeypatch.setattr(related, "open_case_about", stale_first)
    async with ctx.transaction() as uow:
        await intake._open_or_link(uow, runtime_of(ctx), late)
    assert reads == ["stale", "fresh"]
    new = await case_for_message(mesh, late.message_id or "")
    assert new is not None and new["case_id"] != cid and new["status"] == "dispatched"
    assert (await events_of(mesh, new["case_id"], "opened"))[0]["data"]["related_cases"] == [cid]
    assert (await case_for_message(mesh, case["message_id"]))["status"] == "resolved"  # type: ignore[index]
