"""A receipt is believed only if it matches what was sent to its signer (issue 16, finding 6).

Before, an `acknowledged` receipt with a wrong digest dated 2020 was recorded as acknowledged in
2020, and a receipt from an office the message was never sent to landed in the inbox.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from conftest import MeshFactory
from envelopes import header, sealed, signer_of
from interpol_mesh.bus import subjects
from interpol_mesh.clock import SystemClock, utc
from interpol_mesh.crypto import FileSigner
from interpol_mesh.directory import office_name
from interpol_mesh.ids import new_message_id
from interpol_mesh.messages import Receipt
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import wait_until

IN_2020 = datetime(2020, 1, 1, tzinfo=UTC)


def _receipt(signer: FileSigner, for_message_id: str, digest: str, at: datetime) -> bytes:
    body = Receipt(receipt_type="acknowledged", for_message_id=for_message_id, digest=digest, at=at)
    return sealed(header(signer.office_id, ["ncb.ar"], kind="receipt"), body, signer)


async def test_receipts_that_do_not_match_what_was_sent_are_quarantined_and_change_nothing(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.ar", "ncb.br")
    message = {"recipients": ["ncb.br"], "body": {"title": "Consulta", "text": "Confirmar el vehículo AB123CD."}}
    accepted = await mesh.client("ncb.ar").post("/v1/messages", json=message)
    assert accepted.status_code == 202, accepted.text
    mid, digest = accepted.json()["message_id"], accepted.json()["digest_sha256"]
    d = tables.delivery

    async def delivery() -> list[tuple[str, datetime | None, datetime | None]]:
        rows = await mesh.rows("ncb.ar", sa.select(d.c.recipient, d.c.delivered_at, d.c.acknowledged_at))
        return [(r.recipient, r.delivered_at, r.acknowledged_at) for r in rows]

    async def delivered() -> bool:
        return any(at is not None for _, at, _ in await delivery())

    await wait_until(delivered, what="the genuine delivered receipt from ncb.br")
    before = await delivery()

    keys = mesh.root / "keys"
    br, de = signer_of(keys, "ncb.br"), signer_of(keys, "ncb.de")
    now = SystemClock().now()
    cases = [
        ("ncb.br", _receipt(br, mid, "0" * 64, IN_2020), "digest"),  # the probe's receipt
        ("ncb.br", _receipt(br, mid, digest, IN_2020), f"is before {mid} was sent"),
        ("ncb.br", _receipt(br, mid, digest, now + timedelta(hours=1)), "is in the future"),
        ("ncb.de", _receipt(de, mid, digest, now), f"ncb.de is not a recipient of {mid}"),
        ("ncb.br", _receipt(br, new_message_id(SystemClock()), digest, now), "which this office did not send"),
    ]
    for i, (sender, data, _) in enumerate(cases):
        nc = await mesh.connect_as(sender)
        try:
            await nc.jetstream().publish(subjects.direct(sender, "ncb.ar"), data, headers={"Nats-Msg-Id": f"r-{i}"})
        finally:
            await nc.close()

    # The barrier: the genuine acknowledgement, published after the forged ones.
    acked = await mesh.client("ncb.br").post(f"/v1/inbox/{mid}/acknowledge")
    assert acked.status_code == 200, acked.text

    async def acknowledged() -> bool:
        return any(ack is not None for _, _, ack in await delivery())

    await wait_until(acknowledged, what="the genuine acknowledgement from ncb.br")
    [(recipient, delivered_at, acknowledged_at)] = await delivery()
    assert recipient == "ncb.br" and acknowledged_at is not None and delivered_at == before[0][1]
    assert utc(acknowledged_at) == datetime.fromisoformat(acked.json()["acknowledged_at"]), "not 2020"

    q = tables.quarantine
    refused = await mesh.rows("ncb.ar", sa.select(q.c.reason, q.c.detail, q.c.claimed_sender).order_by(q.c.id))
    assert [r.reason for r in refused] == ["receipt-mismatch"] * len(cases)
    for row, (sender, _, why) in zip(refused, cases, strict=True):
        assert why in row.detail and row.claimed_sender == office_name(sender, "subject"), row.detail
    i = tables.inbox
    receipts = await mesh.rows("ncb.ar", sa.select(i.c.sender).where(i.c.kind == "receipt"))
    assert sorted(r.sender for r in receipts) == ["ncb.br", "ncb.br"], "only the genuine delivered and acknowledged"
    listed = (await mesh.client("ncb.ar").get("/v1/inbox", params={"include_receipts": True})).json()["items"]
    assert {item["sender"] for item in listed} == {"ncb.br"}
    status = (await mesh.client("ncb.ar").get(f"/v1/sent/{mid}")).json()
    assert [r["recipient"] for r in status["recipients"]] == ["ncb.br"]
