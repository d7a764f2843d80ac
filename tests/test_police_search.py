"""Police databases end to end: an NCB contributes records to the GS, another searches them online.

Real nats-server (with the mesh's permissions), real databases (SQLite and PostgreSQL), real
signatures both ways. The search is a core NATS request to the GS's responder; the hits go out as
signed `record-hit` reports to the owner and the CCC, and the terms are kept only in the audit trail.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from conftest import MeshFactory
from interpol_mesh.audit.tables import audit_log
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until
from interpol_offices.police_data import synthetic
from interpol_offices.police_data import tables as police

PASSPORT = {"number": "18FV04321", "issuing_country": "FR", "status": "stolen", "document_type": "passport"}
VIN = "1HGCM82633A004352"  # the check digit (3) is right: a North American VIN must carry it


async def contribute(mesh: TestMesh, office: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await mesh.client(office).post("/v1/records", json=body)
    assert response.status_code == 202, response.text
    return dict(response.json())


async def held_at(mesh: TestMesh, office: str, record_id: str, *, present: bool = True) -> None:
    """Wait until `office`'s police tables hold (or no longer hold) the record."""

    async def check() -> bool | None:
        async with mesh.contexts[office].engine.connect() as conn:
            found = False
            for table in police.TABLES_BY_DATABASE.values():
                row = (await conn.execute(sa.select(table.c.record_id).where(table.c.record_id == record_id))).first()
                found = found or row is not None
        return True if found == present else None

    await wait_until(check, what=f"{record_id} {'held' if present else 'gone'} at {office}")


async def held_at_gs(mesh: TestMesh, record_id: str, *, present: bool = True) -> None:
    await held_at(mesh, "gs", record_id, present=present)


async def search(mesh: TestMesh, office: str, body: dict[str, Any], expect: int = 200) -> dict[str, Any]:
    response = await mesh.client(office).post("/v1/searches", json={"place": "Roissy-CDG T2E", **body})
    assert response.status_code == expect, response.text
    return dict(response.json())


async def audit_events(mesh: TestMesh, office: str, event: str) -> list[dict[str, Any]]:
    a = audit_log
    async with mesh.contexts[office].engine.connect() as conn:
        rows = (await conn.execute(sa.select(a).where(a.c.event == event).order_by(a.c.seq))).mappings().all()
    return [dict(r) for r in rows]


async def test_a_stolen_passport_contributed_by_france_is_found_at_a_german_border_and_france_and_the_ccc_are_told(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.de", "ccc")
    sent = await contribute(mesh, "ncb.fr", {"database": "sltd", "record_ref": "FR-1", "document": PASSPORT,
                                             "instructions": "seize"})  # fmt: skip
    assert sent["record_id"] == "sltd/ncb.fr/FR-1"
    await held_at_gs(mesh, "sltd/ncb.fr/FR-1")

    # Typed with spaces and a dash, as an officer reads it: the same key.
    answer = await search(
        mesh, "ncb.de", {"database": "sltd", "document_number": "18 FV-04321", "issuing_country": "FR"}
    )
    assert [h["record_id"] for h in answer["hits"]] == ["sltd/ncb.fr/FR-1"]
    hit = answer["hits"][0]
    assert hit["score"] == 1.0 and hit["instructions"] == "seize" and hit["document"]["status"] == "stolen"
    assert len(answer["hit_reports"]) == 1

    report_id = answer["hit_reports"][0]
    i = tables.inbox
    for office in ("ncb.fr", "ccc"):

        async def arrived(office: str = office) -> bool | None:
            async with mesh.contexts[office].engine.connect() as conn:
                row = (await conn.execute(sa.select(i.c.kind).where(i.c.message_id == report_id))).first()
            return True if row is not None and row[0] == "record-hit" else None

        await wait_until(arrived, what=f"the record-hit at {office}")

    searches = await audit_events(mesh, "ncb.de", "search")
    assert searches[-1]["result"] == "1 hits" and "18 FV-04321" in searches[-1]["detail"]
    assert [e["detail"] for e in await audit_events(mesh, "ncb.de", "record-view")] == ["sltd/ncb.fr/FR-1 revision 1"]

    # Nothing on a number nobody reported; no report sent.
    miss = await search(mesh, "ncb.de", {"database": "sltd", "document_number": "XX0000000", "issuing_country": "FR"})
    assert miss["hits"] == [] and miss["hit_reports"] == []


async def test_an_mrz_is_read_at_the_ncb_and_a_wrong_check_digit_is_refused_naming_the_field(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.de", "ccc")
    document = next(d for d in synthetic.documents(50, seed=7, countries=("FR",)) if d.document_type == "passport")
    fields = {
        k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in document._asdict().items() if v is not None
    }
    await contribute(mesh, "ncb.fr", {"database": "sltd", "record_ref": "FR-MRZ", "document": fields})
    await held_at_gs(mesh, "sltd/ncb.fr/FR-MRZ")
    mrz = synthetic.mrz_for(document)
    answer = await search(mesh, "ncb.de", {"database": "sltd", "mrz": mrz})
    assert [h["record_id"] for h in answer["hits"]] == ["sltd/ncb.fr/FR-MRZ"]

    lines = mrz.splitlines()
    broken = lines[1][:9] + str((int(lines[1][9]) + 1) % 10) + lines[1][10:]
    refused = await search(mesh, "ncb.de", {"database": "sltd", "mrz": "\n".join([lines[0], broken])}, expect=422)
    assert refused["detail"].startswith("mrz.document_number:")


async def test_only_the_issuing_country_adds_a_passport_and_a_forged_change_is_refused_at_the_gs(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.de")
    refused = await mesh.client("ncb.de").post("/v1/records", json={"database": "sltd", "record_ref": "DE-1",
                                                                     "document": PASSPORT})  # fmt: skip
    assert refused.status_code == 422 and "document.issuing_country" in refused.text

    # The same change signed by Germany's own software, past its API: the GS refuses it and records why.
    from interpol_mesh.messages.records import RecordChange
    from interpol_mesh.messaging import compose

    ctx = mesh.contexts["ncb.de"]
    change = RecordChange(operation="upsert", database="sltd", record_ref="DE-1", owner_office="ncb.de",
                          document=PASSPORT)  # type: ignore[arg-type]  # fmt: skip
    async with ctx.transaction() as uow:
        out = compose(ctx, kind="record-change", recipients=["gs"], body=change)
        await uow.send(out)

    async def refused_at_gs() -> list[dict[str, Any]] | None:
        events = await audit_events(mesh, "gs", "record-refused")
        return events or None

    events = await wait_until(refused_at_gs, what="the GS refusing the forged change")
    assert events[0]["result"] == "not-the-issuing-country" and events[0]["message_id"] == out.header.message_id
    # ...and the consumer goes on: France's next change is stored.
    await contribute(mesh, "ncb.fr", {"database": "sltd", "record_ref": "FR-2", "document": PASSPORT})
    await held_at_gs(mesh, "sltd/ncb.fr/FR-2")
    await held_at_gs(mesh, "sltd/ncb.de/DE-1", present=False)


async def test_a_stolen_car_is_found_by_vin_or_by_a_plate_typed_in_cyrillic_and_cancelled_when_recovered(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.ru", "ncb.fr", "ccc")
    bad = await mesh.client("ncb.ru").post("/v1/records", json={"database": "smv", "record_ref": "RU-7",
                                                                  "vehicle": {"vin": VIN[:8] + "9" + VIN[9:]}})  # fmt: skip
    assert bad.status_code == 422 and "vehicle.vin" in bad.text
    vehicle = {"vin": VIN, "plate": "A123BC77", "plate_country": "RU", "make": "Honda", "model": "Accord"}
    await contribute(mesh, "ncb.ru", {"database": "smv", "record_ref": "RU-7", "vehicle": vehicle})
    await held_at_gs(mesh, "smv/ncb.ru/RU-7")

    by_vin = await search(mesh, "ncb.fr", {"database": "smv", "vin": VIN.lower()})
    assert [h["record_id"] for h in by_vin["hits"]] == ["smv/ncb.ru/RU-7"]
    by_plate = await search(mesh, "ncb.fr", {"database": "smv", "plate": "А 123 ВС 77", "plate_country": "RU"})
    assert [h["record_id"] for h in by_plate["hits"]] == ["smv/ncb.ru/RU-7"]

    cancelled = await mesh.client("ncb.ru").delete("/v1/records/smv/RU-7")
    assert cancelled.status_code == 202, cancelled.text
    await held_at_gs(mesh, "smv/ncb.ru/RU-7", present=False)
    assert (await search(mesh, "ncb.fr", {"database": "smv", "vin": VIN}))["hits"] == []


async def test_a_restricted_record_is_invisible_to_a_country_outside_its_list(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.de", "ncb.es", "ccc")
    await contribute(mesh, "ncb.fr", {"database": "sltd", "record_ref": "FR-R", "document": PASSPORT,
                                      "visible_to": ["DE"]})  # fmt: skip
    await held_at_gs(mesh, "sltd/ncb.fr/FR-R")
    query = {"database": "sltd", "document_number": PASSPORT["number"], "issuing_country": "FR"}
    assert len((await search(mesh, "ncb.de", query))["hits"]) == 1
    assert (await search(mesh, "ncb.es", query))["hits"] == []
    assert len((await search(mesh, "ncb.fr", query))["hits"]) == 1  # the owner always sees its own


async def test_a_wanted_person_is_found_across_scripts_and_spellings(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.sa", "ncb.fr", "ccc")
    person = {"names": [{"family_name": "عبد الله", "given_names": "محمد"},
                        {"family_name": "ABDULLAH", "given_names": "Mohammed"}],
              "date_of_birth": "1980-03-04", "nationalities": ["SA"]}  # fmt: skip
    await contribute(mesh, "ncb.sa", {"database": "persons", "record_ref": "SA-9", "person": person,
                                      "instructions": "arrest"})  # fmt: skip
    await held_at_gs(mesh, "persons/ncb.sa/SA-9")
    answer = await search(mesh, "ncb.fr", {"database": "persons", "person": {
        "names": [{"family_name": "Abdallah", "given_names": "Muhammad"}], "date_of_birth": "1980-03-04"}})  # fmt: skip
    assert [h["record_id"] for h in answer["hits"]] == ["persons/ncb.sa/SA-9"]
    assert any("date of birth exact" in r for r in answer["hits"][0]["reasons"])
    other = await search(mesh, "ncb.fr", {"database": "persons", "person": {
        "names": [{"family_name": "Smith", "given_names": "John"}], "date_of_birth": "1980-03-04"}})  # fmt: skip
    assert other["hits"] == []


async def test_without_the_gs_a_search_answers_503_within_its_deadline_and_is_audited(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr")
    await mesh.stop("gs")
    response = await mesh.client("ncb.fr").post(
        "/v1/searches", json={"database": "sltd", "document_number": "X1", "issuing_country": "FR", "place": "Calais"}
    )
    assert response.status_code == 503, response.text
    assert (await audit_events(mesh, "ncb.fr", "search"))[-1]["result"] == "unavailable"
