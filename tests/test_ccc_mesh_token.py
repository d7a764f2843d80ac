"""CCC operators can use the mesh-wide token mechanism: a staff token signed with the CCC's key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from ccc_support import bearer, token
from conftest import MeshFactory
from interpol_mesh.audit.tables import audit_log
from interpol_mesh.auth import issue_token
from interpol_mesh.clock import FakeClock
from interpol_mesh.testing.harness import TestMesh

# From the reviewed roster: sg.haddad and sg.tan are operators, sg.koh and ly.laurent duty officers,
# sg.chen and ly.girard heads of desk.


async def test_mesh_staff_token_names_a_roster_operator(make_mesh: MeshFactory) -> None:
    mesh = make_mesh(clock=FakeClock())
    await mesh.start("ccc")
    ctx = mesh.ctx("ccc")
    token = issue_token(ctx.signer, subject="sg.haddad", audience="ccc", roles=["operator"], now=ctx.clock.now())
    async with mesh.raw_client("ccc") as client:
        me = await client.get("/v1/operators/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
        assert me.json()["id"] == "sg.haddad"
        stranger = issue_token(ctx.signer, subject="nobody", audience="ccc", roles=["operator"], now=ctx.clock.now())
        refused = await client.get("/v1/operators/me", headers={"Authorization": f"Bearer {stranger}"})
        assert refused.status_code == 401
        other_office = mesh.ctx("ccc").signer  # a token for another audience is refused too
        wrong_aud = issue_token(
            other_office, subject="sg.haddad", audience="gs", roles=["operator"], now=ctx.clock.now()
        )
        assert (
            await client.get("/v1/operators/me", headers={"Authorization": f"Bearer {wrong_aud}"})
        ).status_code == 401


async def test_the_roster_not_the_token_decides_what_an_operator_may_do(make_mesh: MeshFactory) -> None:
    mesh = make_mesh(clock=FakeClock())
    await mesh.start("ccc")
    ctx = mesh.ctx("ccc")
    # sg.tan is an operator on the roster; a token claiming more changes nothing.
    claims_more = issue_token(ctx.signer, subject="sg.tan", audience="ccc", roles=["head-of-desk"], now=ctx.clock.now())
    async with mesh.raw_client("ccc") as client:
        refused = await client.delete("/v1/roster/overrides/1", headers={"Authorization": f"Bearer {claims_more}"})
        assert refused.status_code == 403 and "sg.tan is an operator" in refused.json()["detail"]


async def _refusals(mesh: TestMesh, result: str) -> list[str | None]:
    rows = await mesh.rows(
        "ccc", sa.select(audit_log).where(audit_log.c.event == "auth-failure", audit_log.c.result == result)
    )
    return [r.sender for r in rows]


async def test_tokens_are_issued_only_for_someone_of_lower_rank(make_mesh: MeshFactory) -> None:
    mesh = make_mesh(clock=FakeClock())
    await mesh.start("ccc")
    client = mesh.client("ccc")

    async def issue(caller: str, target: str) -> httpx.Response:
        return await client.post(f"/v1/operators/{target}/tokens", json={"hours": 1}, headers=bearer(mesh, caller))

    up = await issue("sg.koh", "sg.chen")  # a duty officer minting a head of desk's token, then the roster
    assert up.status_code == 403 and "sg.chen is head-of-desk" in up.json()["detail"], up.text
    peer = await issue("sg.koh", "ly.laurent")  # A for B, then B for A: renewed for ever
    assert peer.status_code == 403 and "ly.laurent is duty-officer" in peer.json()["detail"], peer.text
    head_peer = await issue("sg.chen", "ly.girard")  # head-of-desk tokens come from the CLI only
    assert head_peer.status_code == 403 and "interpol-mesh token issue" in head_peer.json()["detail"]
    assert await _refusals(mesh, "forbidden") == ["sg.koh", "sg.koh", "sg.chen"]

    down = await issue("sg.chen", "sg.koh")
    assert down.status_code == 201, down.text
    as_koh = {"Authorization": f"Bearer {down.json()['token']}"}
    assert (await client.get("/v1/operators/me", headers=as_koh)).json()["id"] == "sg.koh"
    assert (await issue("sg.koh", "sg.tan")).status_code == 201, "a duty officer issues for an operator"


async def test_a_revoked_operators_older_tokens_are_refused_and_newer_ones_work(make_mesh: MeshFactory) -> None:
    clock = FakeClock(datetime(2026, 3, 3, 3, 0, 0, 400_000, tzinfo=UTC))  # mid-second: iat is rounded down
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc")
    client = mesh.client("ccc")
    leaked = {"Authorization": f"Bearer {token(mesh, 'sg.tan')}"}
    assert (await client.get("/v1/operators/me", headers=leaked)).status_code == 200

    reason = {"reason": "tablet left in a taxi"}
    by_peer = await client.post("/v1/operators/sg.tan/tokens/revoke", json=reason, headers=bearer(mesh, "sg.haddad"))
    assert by_peer.status_code == 403 and "sg.tan is operator" in by_peer.json()["detail"]
    up = await client.post("/v1/operators/sg.koh/tokens/revoke", json=reason, headers=bearer(mesh, "sg.tan"))
    assert up.status_code == 403
    assert (await client.get("/v1/operators/me", headers=leaked)).status_code == 200, "refused revocations do nothing"

    clock.advance(timedelta(minutes=5))
    revoked = await client.post("/v1/operators/sg.tan/tokens/revoke", json=reason, headers=bearer(mesh, "sg.koh"))
    assert revoked.status_code == 200, revoked.text
    assert datetime.fromisoformat(revoked.json()["not_before"]) == clock.now()
    refused = await client.get("/v1/operators/me", headers=leaked)
    assert refused.status_code == 401 and "tokens of sg.tan issued before" in refused.json()["detail"]
    assert await _refusals(mesh, "token-revoked") == ["sg.tan"]
    record = await mesh.rows("ccc", sa.select(audit_log).where(audit_log.c.event == "tokens-revoked"))
    assert [(r.sender, r.recipients) for r in record] == [("sg.koh", ["sg.tan"])] and "taxi" in record[0].detail
    assert (await client.get("/v1/operators/me", headers=bearer(mesh, "sg.haddad"))).status_code == 200, "only hers"

    clock.advance(timedelta(seconds=1))
    issued = await client.post("/v1/operators/sg.tan/tokens", json={"hours": 1}, headers=bearer(mesh, "sg.koh"))
    fresh = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert (await client.get("/v1/operators/me", headers=fresh)).json()["id"] == "sg.tan"

    clock.advance(timedelta(minutes=1))  # anyone may revoke their own
    own = await client.post("/v1/operators/sg.tan/tokens/revoke", json=reason, headers=fresh)
    assert own.status_code == 200, own.text
    assert (await client.get("/v1/operators/me", headers=fresh)).status_code == 401
