"""Record hits at the CCC: a frontline hit opens a case in the record owner's language; a second
hit on the same record joins that case. Real nats-server, both databases, real signatures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ccc_support import case_for_message, events_of, send_to_ccc
from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.messages.records import RecordHit, SearchQuery
from interpol_mesh.testing.harness import TestMesh, wait_until
from interpol_offices.ccc_router import tables as t

TUESDAY_0300 = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
RECORD = "sltd/ncb.fr/fr-2026-0042"


def record_hit(at: datetime, *, search_id: str, number: str = "19FR-12345") -> RecordHit:
    """ncb.es's border check found ncb.fr's stolen passport (owner France, language fr)."""
    return RecordHit(
        search_id=search_id, record_id=RECORD, database="sltd", owner_office="ncb.fr", record_ref="fr-2026-0042",
        score=1.0, reasons=("document number and issuing country exact",), mode="online", purpose="border-check",
        query=SearchQuery(database="sltd", document_number=number, issuing_country="FR"),
        country="ES", place="Aeropuerto de Madrid-Barajas, T4", hit_at=at,
    )  # fmt: skip


async def case_of(mesh: TestMesh, mid: str) -> dict[str, Any]:
    case: dict[str, Any] = await wait_until(lambda: case_for_message(mesh, mid), what=f"the case of {mid}")
    return case


async def test_a_record_hit_opens_a_case_in_the_owners_language_and_a_second_joins_it(
    make_mesh: MeshFactory,
) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.es", "ncb.fr")

    first = await send_to_ccc(
        mesh, "ncb.es", record_hit(clock.now(), search_id="s-1"), kind="record-hit", language="es", priority="urgent"
    )
    case = await case_of(mesh, first)
    cid = case["case_id"]
    assert case["kind"] == "record-hit" and case["message_id"] == first and case["priority"] == "urgent"
    assert case["title"] == f"Hit on SLTD record {RECORD} in ES: Aeropuerto de Madrid-Barajas, T4"
    assert "document_number: 19FR-12345" in case["text"] and "issuing_country: FR" in case["text"]
    assert "score 1.00" in case["text"] and "mode online; purpose border-check" in case["text"]
    # The owner's language, not the searching NCB's `es`: France must act on its record.
    assert case["language"] == "fr" and case["language_tag"] == "fr"
    assert case["language_decision"]["reason"] == "tag-kept-no-text"
    assert case["queue_language"] == "fr"
    assert set(case["involved"]) == {"ncb.es", "ncb.fr"}
    [opened] = await events_of(mesh, cid, "opened")
    assert opened["data"]["record_hit"]["sender_language"] == "es"
    s = t.case_subjects
    subjects = await mesh.rows("ccc", sa.select(s.c.subject).where(s.c.case_id == cid))
    assert {r.subject for r in subjects} == {f"record:{RECORD}", "document:19FR12345"}

    clock.advance(timedelta(minutes=10))
    second = await send_to_ccc(
        mesh, "ncb.es", record_hit(clock.now(), search_id="s-2", number="19FR 12345"), kind="record-hit",
        language="es", priority="routine",
    )  # fmt: skip
    links = await wait_until(lambda: events_of(mesh, cid, "linked"), what="the second hit linked")
    assert [e["data"]["message_id"] for e in links] == [second]
    assert links[0]["data"]["subjects"] == [f"record:{RECORD}", "document:19FR12345"]
    assert (await case_of(mesh, second))["case_id"] == cid
    assert await mesh.scalar("ccc", sa.select(sa.func.count()).select_from(t.cases)) == 1
