"""Key rotation and revocation end to end, through the GS key authority and the bus."""

from __future__ import annotations

import stat

import sqlalchemy as sa

from conftest import MeshFactory
from interpol_mesh.messages import FreeTextMessage
from interpol_mesh.messaging import compose
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import wait_until

MESSAGE = {"recipients": ["ncb.es", "ncb.br"], "body": {"title": "Check", "text": "Please check this vehicle."}}


async def _sent_and_held(mesh, sender: str, recipients: list[str], *, via_api: bool = True) -> str:  # type: ignore[no-untyped-def]
    if via_api:
        response = await mesh.client(sender).post("/v1/messages", json=MESSAGE)
        assert response.status_code == 202, response.text
        mid = response.json()["message_id"]
    else:  # the API refuses tokens signed by a revoked key, so sign as a compromised process would
        ctx = mesh.ctx(sender)
        out = compose(ctx, kind="message", recipients=recipients, body=FreeTextMessage(**MESSAGE["body"]))
        async with ctx.transaction() as uow:
            await uow.send(out)
        mid = out.header.message_id

    async def everywhere() -> bool:
        for office in recipients:
            held = await mesh.scalar(office, sa.select(tables.inbox.c.key_id).where(tables.inbox.c.message_id == mid))
            quarantined = await mesh.scalar(
                office, sa.select(tables.quarantine.c.reason).where(tables.quarantine.c.message_id == mid)
            )
            if held is None and quarantined is None:
                return False
        return True

    await wait_until(everywhere, what=f"message {mid} to be held or quarantined")
    return mid


async def test_rotation_then_revocation_propagate_to_every_office(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.es", "ncb.br")
    fr = mesh.ctx("ncb.fr")
    old_key = fr.signer.key_id

    rotated = await mesh.client("ncb.fr").post(
        "/v1/keys/rotate", json={"overlap_hours": 1, "invalidate_live_tokens": True}
    )
    assert rotated.status_code == 202, rotated.text
    new_key = rotated.json()["new_key_id"]

    async def switched() -> bool:
        return fr.signer.key_id == new_key

    await wait_until(switched, what="ncb.fr to switch to its new key")
    key_file = mesh.root / "keys" / "ncb.fr.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    async def listed_at_es() -> dict[str, dict[str, object]] | None:
        """Spain's view of France's keys once the GS's new directory reached it (France may switch first)."""
        listed = (await mesh.client("ncb.es").get("/v1/keys", params={"office_id": "ncb.fr"})).json()["keys"]
        by_id = {k["key_id"]: k for k in listed}
        return by_id if new_key in by_id and by_id.get(old_key, {}).get("valid_until") is not None else None

    by_id = await wait_until(listed_at_es, what="ncb.es to list ncb.fr's rotation")
    assert by_id[old_key]["valid_until"] is not None, "old key keeps an overlap window"
    assert by_id[new_key]["valid_until"] is None

    mid = await _sent_and_held(mesh, "ncb.fr", ["ncb.es", "ncb.br"])
    for office in ("ncb.es", "ncb.br"):
        key_id = await mesh.scalar(office, sa.select(tables.inbox.c.key_id).where(tables.inbox.c.message_id == mid))
        assert key_id == new_key

    version = mesh.ctx("ncb.es").keyring.current.version
    revoked = await mesh.client("gs").post(f"/v1/keys/{new_key}/revoke", json={"reason": "test compromise"})
    assert revoked.status_code == 200, revoked.text

    async def all_know() -> bool:
        return all(mesh.ctx(o).keyring.current.version > version for o in ("ncb.fr", "ncb.es", "ncb.br"))

    await wait_until(all_know, what="the revocation to reach every office")
    refused = await mesh.client("ncb.fr").post("/v1/messages", json=MESSAGE)
    assert refused.status_code == 401, "staff tokens signed by the revoked key are refused too"
    mid = await _sent_and_held(mesh, "ncb.fr", ["ncb.es", "ncb.br"], via_api=False)
    for office in ("ncb.es", "ncb.br"):
        reason = await mesh.scalar(
            office, sa.select(tables.quarantine.c.reason).where(tables.quarantine.c.message_id == mid)
        )
        assert reason == "revoked-key"
        assert (
            await mesh.scalar(office, sa.select(tables.inbox.c.message_id).where(tables.inbox.c.message_id == mid))
            is None
        )


async def test_gs_serves_the_signed_directory(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs")
    keys = (await mesh.client("gs").get("/v1/keys")).json()
    assert len({k["office_id"] for k in keys["keys"]}) == 209
    signed = (await mesh.client("gs").get("/v1/keys/signed")).json()
    assert signed["version"] == keys["version"]


def test_a_rotation_with_an_unusable_public_key_is_refused_by_its_schema() -> None:
    import pytest
    from pydantic import ValidationError

    from interpol_mesh.messages import KeyRotation

    with pytest.raises(ValidationError, match="32 bytes"):
        KeyRotation(new_key_id="ncb.fr/x", new_public_key="A" * 44)
