"""National copies (MIND) and the notice feed, end to end on real NATS and real databases (SQLite, PostgreSQL).

Germany keeps a national copy (`police_data/data/national_copies.csv`); France does not. A copy holds
only what its office may see, follows the GS by revision, and answers a frontline search while the
link is down, saying how fresh it is. A published Red Notice becomes a searchable person; its
cancellation removes it everywhere.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.natsd import NatsServer
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until
from interpol_offices.police_data import national_copy, retention, store
from interpol_offices.police_data import tables as police
from test_notices import RED, decide, notice_at, request_notice
from test_police_search import PASSPORT, VIN, audit_events, contribute, held_at, held_at_gs, search


async def first_row(mesh: TestMesh, office: str, query: sa.Select[Any]) -> tuple[Any, ...] | None:
    async with mesh.contexts[office].engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return tuple(row) if row is not None else None


async def record_ids(mesh: TestMesh, office: str) -> set[str]:
    async with mesh.contexts[office].engine.connect() as conn:
        ids: set[str] = set()
        for table in police.TABLES_BY_DATABASE.values():
            ids |= set((await conn.execute(sa.select(table.c.record_id))).scalars())
    return ids


def test_the_holders_file_names_ncbs_of_the_directory(tmp_path: Path) -> None:
    from interpol_mesh.directory import load_directory
    from interpol_mesh.errors import ConfigError

    directory = load_directory()
    national_copy.check_holders(directory)
    holders = national_copy.copy_holders(directory)
    assert "ncb.de" in holders and "ncb.fr" not in holders
    stale = tmp_path / "national_copies.csv"
    stale.write_text("office,reason\nncb.de,tests\nncb.xx,left the directory\n")
    with pytest.raises(ConfigError, match=r"ncb\.xx is not an NCB"):
        national_copy.check_holders(directory, stale)  # the GS does not start on it...
    assert national_copy.copy_holders(directory, stale) == ("ncb.de",)  # ...and a running office skips it


async def test_a_national_copy_holds_what_its_office_may_see_and_answers_with_the_link_down(
    make_mesh: MeshFactory, nats_server: NatsServer
) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.de", "ccc")
    await contribute(mesh, "ncb.fr", {"database": "sltd", "record_ref": "FR-1", "document": PASSPORT,
                                      "instructions": "seize"})  # fmt: skip
    await contribute(mesh, "ncb.fr", {"database": "sltd", "record_ref": "FR-ES", "visible_to": ["ES"],
                                      "document": {**PASSPORT, "number": "18FV09999"}})  # fmt: skip
    await contribute(mesh, "ncb.fr", {"database": "smv", "record_ref": "FR-CAR", "vehicle": {"vin": VIN}})
    await held_at(mesh, "ncb.de", "smv/ncb.fr/FR-CAR")
    await held_at_gs(mesh, "sltd/ncb.fr/FR-ES")
    # Delivered in the GS's order: the third change is here, and the one restricted to Spain never came.
    assert await record_ids(mesh, "ncb.de") == {"sltd/ncb.fr/FR-1", "smv/ncb.fr/FR-CAR"}
    assert await record_ids(mesh, "ncb.fr") == set()  # France keeps no copy
    d = police.documents
    held_until = sa.select(d.c.retention_until, d.c.revision).where(d.c.record_id == "sltd/ncb.fr/FR-1")
    at_gs, at_de = [(await first_row(mesh, o, held_until)) for o in ("gs", "ncb.de")]
    assert at_gs == at_de  # the GS's retention end and revision, not the copy's own default

    status = (await mesh.client("ncb.de").get("/v1/national-copy")).json()
    assert status["keeps_copy"] is True and status["records"] == {"sltd": 1, "smv": 1, "persons": 0}
    assert status["last_revision"] == 3 and status["copy_as_of"] is not None and status["link"] == "up"
    refused = await mesh.client("ncb.fr").post(
        "/v1/searches", json={"database": "sltd", "document_number": "X1", "mode": "national-copy", "place": "Calais"}
    )
    assert refused.status_code == 409 and "national copy" in refused.text

    query = {"database": "sltd", "document_number": "18FV04321", "issuing_country": "FR"}
    local = await search(mesh, "ncb.de", {**query, "mode": "national-copy"})
    assert local["mode"] == "national-copy" and local["link"] == "up" and local["copy_as_of"] == status["copy_as_of"]
    assert [(h["record_id"], h["instructions"]) for h in local["hits"]] == [("sltd/ncb.fr/FR-1", "seize")]
    restricted = {"database": "sltd", "document_number": "18FV09999", "issuing_country": "FR", "mode": "national-copy"}
    assert (await search(mesh, "ncb.de", restricted))["hits"] == []

    nats_server.stop()
    await wait_until(lambda: _disconnected(mesh, "ncb.de"), what="ncb.de seeing its link down")
    assert (await search(mesh, "ncb.de", query, expect=503))["detail"].startswith("search unavailable")
    offline = await search(mesh, "ncb.de", {**query, "mode": "auto"})
    assert offline["mode"] == "national-copy" and offline["link"] == "down"
    assert [h["record_id"] for h in offline["hits"]] == ["sltd/ncb.fr/FR-1"] and len(offline["hit_reports"]) == 1
    searches = await audit_events(mesh, "ncb.de", "search")
    assert (
        searches[-1]["result"].startswith("1 hits (online unavailable") and " national-copy " in searches[-1]["detail"]
    )
    views = await audit_events(mesh, "ncb.de", "record-view")
    assert views[-1]["message_id"] == offline["search_id"] and views[-1]["detail"].startswith("sltd/ncb.fr/FR-1")

    # The hit found offline waits in the outbox and reaches the owner and the CCC once the link is back.
    nats_server.start()
    report = offline["hit_reports"][0]
    i = tables.inbox
    for office in ("ncb.fr", "ccc"):
        query_inbox = sa.select(i.c.kind).where(i.c.message_id == report)
        await wait_until(lambda o=office, q=query_inbox: mesh.scalar(o, q), timeout=45,  # type: ignore[misc]
                         what=f"the offline hit's report at {office}")  # fmt: skip


async def _disconnected(mesh: TestMesh, office: str) -> bool:
    return not mesh.contexts[office].bus_status.connected


async def test_a_copy_drops_what_its_office_may_no_longer_see_and_ignores_late_or_forged_changes(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.de")
    body = {"database": "sltd", "record_ref": "FR-1", "document": PASSPORT}
    await contribute(mesh, "ncb.fr", body)
    await held_at(mesh, "ncb.de", "sltd/ncb.fr/FR-1")
    await contribute(mesh, "ncb.fr", {**body, "visible_to": ["ES"]})  # now restricted to Spain: Germany loses it
    await held_at(mesh, "ncb.de", "sltd/ncb.fr/FR-1", present=False)
    await contribute(mesh, "ncb.fr", {**body, "visible_to": ["DE", "ES"]})
    await held_at(mesh, "ncb.de", "sltd/ncb.fr/FR-1")
    cancelled = await mesh.client("ncb.fr").delete("/v1/records/sltd/FR-1")
    assert cancelled.status_code == 202
    await held_at(mesh, "ncb.de", "sltd/ncb.fr/FR-1", present=False)

    # A change from revision 1 delivered late (a redelivery): the tombstone of revision 4 wins.
    from interpol_mesh.messages.records import RecordChange

    late = RecordChange.model_validate({**body, "operation": "upsert", "owner_office": "ncb.fr", "revision": 1,
                                        "source_message_id": "00000000-0000-0000-0000-000000000001"})  # fmt: skip
    ctx = mesh.contexts["ncb.de"]
    async with ctx.engine.begin() as conn:
        assert await store.apply_copy(conn, late, changed_at=ctx.clock.now(), now=ctx.clock.now()) == "stale"
    assert await record_ids(mesh, "ncb.de") == set()

    # France's own software sends Germany a "copy" change directly: only the GS feeds a copy.
    from interpol_mesh.messaging import compose

    fr = mesh.contexts["ncb.fr"]
    forged = late.model_copy(update={"revision": 99})
    async with fr.transaction() as uow:
        out = compose(fr, kind="record-change", recipients=["ncb.de"], body=forged)
        await uow.send(out)

    async def refused() -> list[dict[str, Any]] | None:
        return [
            e for e in await audit_events(mesh, "ncb.de", "record-refused") if e["message_id"] == out.header.message_id
        ] or None

    events = await wait_until(refused, what="Germany refusing France's forged copy change")
    assert events[0]["result"] == "not-from-the-gs"
    assert await record_ids(mesh, "ncb.de") == set()
    copies = await audit_events(mesh, "ncb.de", "record-copy")
    assert [e["result"] for e in copies] == ["stored", "removed", "stored", "removed"]


async def test_a_published_red_notice_is_a_wanted_person_until_it_is_cancelled(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.de", "ncb.es", "ccc")
    person = {**RED["person"], "date_of_birth": "1979-05-12", "identity_documents": ["18FV04321"]}
    notice_id = (await request_notice(mesh, "ncb.fr", {**RED, "person": person}))["notice_id"]
    await notice_at(mesh, "gs", notice_id, "pending-review")
    assert (await decide(mesh, notice_id, "publish", "Thresholds met.")).status_code == 200
    rid = f"persons/ncb.fr/notice-{notice_id}"
    await held_at_gs(mesh, rid)
    await held_at(mesh, "ncb.de", rid)

    query = {"database": "persons", "person": {"names": [{"family_name": "Dupond", "given_names": "Marc"}],
                                               "date_of_birth": "1979-05-12"}}  # fmt: skip
    for mode in ("online", "national-copy"):
        answer = await search(mesh, "ncb.de", {**query, "mode": mode})
        assert [h["record_id"] for h in answer["hits"]] == [rid], mode
        hit = answer["hits"][0]
        assert hit["owner_office"] == "ncb.fr" and hit["instructions"].startswith("arrest")
        assert hit["person"]["notice_id"] == notice_id and hit["person"]["notice_type"] == "red"
    assert (await search(mesh, "ncb.es", query))["hits"][0]["record_id"] == rid
    # France owns the record but not its life: it follows the notice (no widening, no early cancel).
    refused = await mesh.client("ncb.fr").delete(f"/v1/records/persons/notice-{notice_id}")
    assert refused.status_code == 422 and refused.json()["detail"].startswith("record_ref:")

    cancel = await mesh.client("gs").post(
        f"/v1/notices/{notice_id}/cancel", json={"reason": "Person arrested and extradited.", "reviewer": "ndtf.martin"}
    )
    assert cancel.status_code == 200, cancel.text
    await held_at_gs(mesh, rid, present=False)
    await held_at(mesh, "ncb.de", rid, present=False)
    assert (await search(mesh, "ncb.es", query))["hits"] == []


async def test_a_notice_restricted_to_some_countries_is_searchable_only_there(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.de", "ncb.es", "ccc")
    notice_id = (await request_notice(mesh, "ncb.fr", {**RED, "distribution": {"mode": "allow", "countries": ["ES"]}}))[
        "notice_id"
    ]
    await notice_at(mesh, "gs", notice_id, "pending-review")
    assert (await decide(mesh, notice_id, "publish", "Thresholds met.")).status_code == 200
    rid = f"persons/ncb.fr/notice-{notice_id}"
    await held_at_gs(mesh, rid)
    query = {"database": "persons", "person": {"names": [{"family_name": "DUPONT", "given_names": "Marc"}]}}
    assert [h["record_id"] for h in (await search(mesh, "ncb.es", query))["hits"]] == [rid]
    assert (await search(mesh, "ncb.de", query))["hits"] == []
    assert rid not in await record_ids(mesh, "ncb.de")


async def test_records_past_retention_leave_the_gs_and_the_copies(make_mesh: MeshFactory) -> None:
    clock = FakeClock()
    mesh = make_mesh(clock)
    await mesh.start("gs", "ncb.fr", "ncb.de")
    until = (clock.now() + timedelta(days=30)).isoformat()
    await contribute(mesh, "ncb.fr", {"database": "smv", "record_ref": "FR-CAR", "vehicle": {"vin": VIN},
                                      "retention_until": until})  # fmt: skip
    await held_at(mesh, "ncb.de", "smv/ncb.fr/FR-CAR")
    clock.advance(timedelta(days=31))
    assert await retention.sweep_once(mesh.contexts["gs"]) == 1
    await held_at_gs(mesh, "smv/ncb.fr/FR-CAR", present=False)
    await held_at(mesh, "ncb.de", "smv/ncb.fr/FR-CAR", present=False)
    expired = await audit_events(mesh, "gs", "record-expired")
    assert expired[-1]["detail"] == "smv/ncb.fr/FR-CAR revision 2"
