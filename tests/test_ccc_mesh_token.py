"""CCC operators can use the mesh-wide token mechanism: a staff token signed with the CCC's key."""

from __future__ import annotations

from conftest import MeshFactory
from interpol_mesh.auth import issue_token
from interpol_mesh.clock import FakeClock


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
