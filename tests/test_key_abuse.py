"""Issue 16, findings 1 and 2: an insider holding one NCB's key against the GS key authority.

1. A rotation flood must neither grow the key directory without bound nor hold back a later
   revocation or another office's rotation.
2. A key enrolled with a key that is later revoked "from T" (T before the enrolment) dies with it.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import sqlalchemy as sa
from nacl.signing import SigningKey

from conftest import MeshFactory
from envelopes import header, sealed, signer_of
from interpol_mesh.audit.tables import audit_log
from interpol_mesh.auth.tokens import issue_token, service_roles
from interpol_mesh.bus import subjects
from interpol_mesh.clock import SystemClock
from interpol_mesh.messages import FreeTextMessage, KeyRotation
from interpol_mesh.messaging import compose
from interpol_mesh.messaging.rotation import begin_rotation
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until
from interpol_offices.general_secretariat.key_policy import MAX_LISTED_PER_OFFICE, size_limit

FLOOD = 300


def _rotation(office_id: str, n: int) -> KeyRotation:
    public = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
    stamp = SystemClock().now().strftime("%Y%m%dT%H%M%S")
    return KeyRotation(new_key_id=f"{office_id}/{stamp}-{n:06x}", new_public_key=public)


async def _key_events(mesh: TestMesh) -> list[str]:
    rows = await mesh.rows("gs", sa.select(audit_log.c.result).where(audit_log.c.event == "key-change"))
    return [r.result for r in rows]


async def _delivered(mesh: TestMesh, office: str, mid: str) -> str:
    """'accepted' or the quarantine reason, once `office` has decided on message `mid`."""

    async def decided() -> str | None:
        if await mesh.scalar(office, sa.select(tables.inbox.c.key_id).where(tables.inbox.c.message_id == mid)):
            return "accepted"
        q = tables.quarantine
        return await mesh.scalar(office, sa.select(q.c.reason).where(q.c.message_id == mid))  # type: ignore[no-any-return]

    return await wait_until(decided, what=f"{office} to decide on {mid}")  # type: ignore[no-any-return]


async def _send_signed(mesh: TestMesh, sender: str, recipient: str) -> str:
    """A message signed with the sender's current key, as a compromised process would send it."""
    ctx = mesh.ctx(sender)
    out = compose(ctx, kind="message", recipients=[recipient], body=FreeTextMessage(title="t", text="x"))
    async with ctx.transaction() as uow:
        await uow.send(out)
    return out.header.message_id


async def test_a_rotation_flood_stays_bounded_and_blocks_neither_revocations_nor_other_rotations(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.es", "ncb.br")
    fr = signer_of(mesh.root / "keys", "ncb.fr")
    floods = [sealed(header("ncb.fr", ["gs"], kind="key-rotation"), _rotation("ncb.fr", i), fr) for i in range(FLOOD)]
    insider = await mesh.connect_as("ncb.fr")
    try:
        js = insider.jetstream()
        for i, data in enumerate(floods):
            await js.publish(subjects.direct("ncb.fr", "gs"), data, headers={"Nats-Msg-Id": f"flood-{i}"})
    finally:
        await insider.close()

    inbox = tables.inbox.c
    held = sa.select(sa.func.count()).where(inbox.kind == "key-rotation", inbox.sender == "ncb.fr")

    async def all_judged() -> bool:  # the handler runs in the transaction that stores the request
        return bool(await mesh.scalar("gs", held) == FLOOD)

    await wait_until(all_judged, timeout=120, what="the GS to judge every rotation request")
    gs = mesh.ctx("gs")
    listed = [k for k in gs.keyring.current.document.keys if k.office_id == "ncb.fr"]
    assert len(listed) <= MAX_LISTED_PER_OFFICE, f"{len(listed)} keys of ncb.fr listed"
    kd = tables.key_directory
    signed = await mesh.scalar("gs", sa.select(kd.c.signed).order_by(kd.c.version.desc()).limit(1))
    assert len(signed) < size_limit(gs.nc.max_payload)
    assert len(signed) < 150_000, "209 offices with one key each, plus the flooder's two"
    results = await _key_events(mesh)
    assert results.count("key-enrolled") == 1, "one rotation at a time"
    assert results.count("rotation-pending") == FLOOD - 1, "every refusal is audited with its reason"

    # A revocation still leaves the GS and reaches every office.
    es_key = mesh.ctx("ncb.es").signer.key_id
    version = mesh.ctx("ncb.br").keyring.current.version
    revoked = await mesh.client("gs").post(f"/v1/keys/{es_key}/revoke", json={"reason": "test: exposed"})
    assert revoked.status_code == 200, revoked.text

    async def br_knows() -> bool:
        return mesh.ctx("ncb.br").keyring.current.version > version

    await wait_until(br_knows, what="the revocation to reach ncb.br")
    assert await _delivered(mesh, "ncb.br", await _send_signed(mesh, "ncb.es", "ncb.br")) == "revoked-key"

    # And another office's legitimate rotation completes.
    br = mesh.ctx("ncb.br")
    rotated = await mesh.client("ncb.br").post("/v1/keys/rotate", json={"overlap_hours": 24})
    assert rotated.status_code == 202, rotated.text
    new_key = rotated.json()["new_key_id"]

    async def switched() -> bool:
        return br.signer.key_id == new_key

    await wait_until(switched, what="ncb.br to switch to its new key")


async def test_a_revocation_reaches_the_keys_the_revoked_key_enrolled(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.es")
    fr, es = mesh.ctx("ncb.fr"), mesh.ctx("ncb.es")
    k0 = fr.signer.key_id
    before_enrolment = fr.clock.now() - timedelta(seconds=1)
    rotated = await mesh.client("ncb.fr").post("/v1/keys/rotate", json={"overlap_hours": 24})
    assert rotated.status_code == 202, rotated.text
    k1 = rotated.json()["new_key_id"]

    async def switched() -> bool:
        return fr.signer.key_id == k1 and es.keyring.current.record(k1) is not None

    await wait_until(switched, what="ncb.fr to sign with K1, known at ncb.es")
    token = issue_token(
        fr.signer, subject="ncb.fr", audience="ncb.es", roles=service_roles("ncb"), now=fr.clock.now()
    )  # an office token signed by K1
    async with mesh.raw_client("ncb.es") as raw:
        assert (await raw.get("/v1/keys", headers={"Authorization": f"Bearer {token}"})).status_code == 200

    version = es.keyring.current.version
    revoked = await mesh.client("gs").post(
        f"/v1/keys/{k0}/revoke",
        json={"reason": "test: stolen " + "x" * 300, "invalid_from": before_enrolment.isoformat()},
    )
    assert revoked.status_code == 200, revoked.text

    async def es_knows() -> bool:
        return es.keyring.current.version > version and mesh.ctx("gs").keyring.current.version > version

    await wait_until(es_knows, what="the revocation to reach ncb.es and the GS's own key ring")

    # K1 signs nothing that counts ...
    assert await _delivered(mesh, "ncb.es", await _send_signed(mesh, "ncb.fr", "ncb.es")) == "revoked-key"
    # ... mints no office token ...
    async with mesh.raw_client("ncb.es") as raw:
        assert (await raw.get("/v1/keys", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    # ... and enrols no K2.
    await begin_rotation(fr, timedelta(hours=24))
    q = tables.quarantine
    rows = await wait_until(
        lambda: mesh.rows("gs", sa.select(q.c.reason).where(q.c.subject == subjects.direct("ncb.fr", "gs"))),
        what="the GS to refuse K1's rotation request",
    )
    assert [r.reason for r in rows] == ["revoked-key"]
    listed = {k.key_id for k in mesh.ctx("gs").keyring.current.document.keys if k.office_id == "ncb.fr"}
    assert listed == {k0, k1}

    # The GS and the directory say why.
    assert revoked.json()["also_revoked"] == [k1]
    record = es.keyring.current.record(k1)
    assert record is not None and record.revoked_from == record.valid_from
    assert record.revocation_reason == f"enrolled by revoked key {k0}"
    assert record.enrolled_by == k0
    first = es.keyring.current.record(k0)
    assert first is not None and first.revocation_reason is not None
    assert len(first.revocation_reason) == 80 and first.revocation_reason.startswith("test: stolen x")


async def test_the_rotate_route_is_strict_and_keeps_live_tokens_unless_told(make_mesh: MeshFactory) -> None:
    """Issue 16, finding 8: `{"overlap_hours": false}` was read as 0 and retired the key at once."""
    mesh = make_mesh()
    await mesh.start("ncb.fr")
    client = mesh.client("ncb.fr")
    for body in ({"overlap_hours": False}, {"overlap_hours": "24"}, {"overlap_hours": 24, "invalidate_live_tokens": 1}):
        response = await client.post("/v1/keys/rotate", json=body)
        assert response.status_code == 422, (body, response.text)
    short = await client.post("/v1/keys/rotate", json={"overlap_hours": 1})
    assert short.status_code == 422
    assert "would invalidate live tokens; set invalidate_live_tokens to true" in short.text
    assert not (mesh.root / "keys" / "ncb.fr.next.key").exists(), "nothing was started"
    described = (await client.get("/openapi.json")).json()["paths"]["/v1/keys/rotate"]["post"]["description"]
    assert "invalidate_live_tokens" in described


async def test_the_revoke_route_takes_no_number_for_a_time(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs")
    key_id = signer_of(mesh.root / "keys", "ncb.fr").key_id
    for body in ({"reason": "r", "invalid_from": 0}, {"reason": "r", "invalid_from": True}, {"reason": "r", "x": 1}):
        response = await mesh.client("gs").post(f"/v1/keys/{key_id}/revoke", json=body)
        assert response.status_code == 422, (body, response.text)
    assert mesh.ctx("gs").keyring.current.record(key_id).revoked_from is None  # type: ignore[union-attr]


async def test_a_revocation_dated_back_beyond_the_pruning_horizon_is_still_announced(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.es")
    key_id = signer_of(mesh.root / "keys", "ncb.fr").key_id
    theft = mesh.ctx("gs").clock.now() - timedelta(days=8)
    body = {"reason": "theft found late", "invalid_from": theft.isoformat()}
    revoked = await mesh.client("gs").post(f"/v1/keys/{key_id}/revoke", json=body)
    assert revoked.status_code == 200, revoked.text
    version = revoked.json()["version"]

    async def spain_has_it() -> bool:
        return mesh.ctx("ncb.es").keyring.current.version >= version

    await wait_until(spain_has_it, what="the revocation to reach ncb.es")
    record = mesh.ctx("ncb.es").keyring.current.record(key_id)
    assert record is not None, "the key vanished from the directory instead of being announced as revoked"
    assert record.revoked_from is not None and abs(record.revoked_from - theft) < timedelta(seconds=1)
