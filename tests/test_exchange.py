"""Signed diffusions end to end: delivered only to the chosen recipients, receipts flow back."""

from __future__ import annotations

import sqlalchemy as sa

from barriers import caught_up
from conftest import MeshFactory
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import wait_until

DIFFUSION = {
    "recipients": ["ncb.br", "ncb.es"],
    "language": "es-AR",
    "priority": "urgent",
    "body": {
        "diffusion_type": "wanted-person",
        "title": "Búsqueda internacional",
        "text": "Se solicita localizar a la persona; orden de detención vigente.",
        "person": {"family_name": "PEREZ", "given_names": "Juan", "sex": "male", "nationalities": ["AR"]},
    },
}


async def test_diffusion_reaches_only_its_recipients_and_reports_delivery_then_acknowledgement(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.ar", "ncb.br", "ncb.es", "ncb.de")
    accepted = await mesh.client("ncb.ar").post("/v1/diffusions", json=DIFFUSION)
    assert accepted.status_code == 202, accepted.text
    mid = accepted.json()["message_id"]

    async def delivered_to_both() -> bool:
        status = (await mesh.client("ncb.ar").get(f"/v1/sent/{mid}")).json()
        return all(r["delivered_at"] for r in status["recipients"])

    await wait_until(delivered_to_both, what="delivered receipts from ncb.br and ncb.es")
    for office in ("ncb.br", "ncb.es"):
        inbox = (await mesh.client(office).get("/v1/inbox", params={"kind": "diffusion"})).json()
        assert [i["message_id"] for i in inbox["items"]] == [mid]
        one = (await mesh.client(office).get(f"/v1/inbox/{mid}")).json()
        assert one["sender"] == "ncb.ar" and one["language"] == "es-AR"
        assert one["verification"]["key_id"].startswith("ncb.ar/")
    await caught_up(mesh, "ncb.de")  # not a recipient: once its consumer is caught up, nothing came
    assert await mesh.scalar("ncb.de", sa.select(sa.func.count()).select_from(tables.inbox)) == 0

    status = (await mesh.client("ncb.ar").get(f"/v1/sent/{mid}")).json()
    assert all(r["acknowledged_at"] is None for r in status["recipients"])
    ack = await mesh.client("ncb.br").post(f"/v1/inbox/{mid}/acknowledge")
    assert ack.status_code == 200

    async def acknowledged_by_brazil() -> bool:
        status = (await mesh.client("ncb.ar").get(f"/v1/sent/{mid}")).json()
        by = {r["recipient"]: r for r in status["recipients"]}
        return by["ncb.br"]["acknowledged_at"] is not None and by["ncb.es"]["acknowledged_at"] is None

    await wait_until(acknowledged_by_brazil, what="acknowledged receipt from ncb.br only")


def _message(recipient: str, i: int) -> dict[str, object]:
    return {"recipients": [recipient], "language": "de", "body": {"title": f"Anfrage {i}", "text": f"Fahrzeug {i}"}}


async def test_a_batch_is_all_or_nothing_and_each_message_is_its_own_signed_envelope(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.de", "ncb.at", "ncb.ch")
    client = mesh.client("ncb.de")

    refused = await client.post("/v1/messages/batch", json={"messages": [_message("ncb.at", 0), _message("ncb.zz", 1)]})
    assert refused.status_code == 422 and refused.json()["detail"].startswith("messages[1]: unknown office id")
    too_many = await client.post("/v1/messages/batch", json={"messages": [_message("ncb.at", i) for i in range(201)]})
    assert too_many.status_code == 422
    everyone = [{**_message("ncb.at", i), "recipients": ["all-ncbs"]} for i in range(20)]
    too_big = await client.post("/v1/messages/batch", json={"messages": everyone})
    assert too_big.status_code == 422 and "at most 2000" in too_big.json()["detail"]
    assert await mesh.scalar("ncb.de", sa.select(sa.func.count()).select_from(tables.sent)) == 0

    batch = [_message("ncb.at" if i % 2 else "ncb.ch", i) for i in range(20)]
    accepted = await client.post("/v1/messages/batch", json={"messages": batch})
    assert accepted.status_code == 202, accepted.text
    items = accepted.json()["accepted"]
    assert [i["recipients"] for i in items] == [m["recipients"] for m in batch]
    assert len({i["message_id"] for i in items}) == 20

    async def all_delivered() -> bool:
        s = tables.delivery
        n = await mesh.scalar("ncb.de", sa.select(sa.func.count()).select_from(s).where(s.c.delivered_at.is_not(None)))
        return bool(n == 20)

    await wait_until(all_delivered, what="20 delivered receipts")
    at_austria = await mesh.rows("ncb.at", sa.select(tables.inbox.c.message_id, tables.inbox.c.digest))
    assert {r.message_id: r.digest for r in at_austria} == {
        i["message_id"]: i["digest_sha256"] for i in items if i["recipients"] == ["ncb.at"]
    }
