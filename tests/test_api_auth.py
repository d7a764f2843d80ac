"""Every route of every office role needs a valid token (401) and the right role (403)."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from conftest import MeshFactory
from interpol_mesh.audit.tables import audit_log
from interpol_mesh.auth import issue_token, service_roles
from interpol_mesh.auth.refusals import BURST
from interpol_mesh.clock import FakeClock
from interpol_mesh.crypto import read_private_key
from interpol_mesh.testing.harness import TestMesh

ONE_PER_ROLE = ("gs", "ccc", "ncb.fr", "rb.nairobi", "lo.eu-brussels")
PUBLIC = {"/healthz", "/readyz", "/openapi.json", "/docs"}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-test", path)


async def test_every_route_of_every_role_requires_authentication(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start(*ONE_PER_ROLE)
    checked = 0
    for office in ONE_PER_ROLE:
        async with mesh.raw_client(office) as raw:
            spec = (await raw.get("/openapi.json")).json()
            assert set(spec["components"]["securitySchemes"]) == {"meshToken"}, f"{office}: one token scheme"
            for path, operations in spec["paths"].items():
                if path in PUBLIC:
                    continue
                for method, operation in operations.items():
                    assert operation.get("security"), f"{office} {method.upper()} {path} declares no security"
                    response = await raw.request(method, _concrete(path), json={})
                    assert response.status_code == 401, (
                        f"{office} {method.upper()} {path}: {response.status_code} without a token"
                    )
                    checked += 1
            for path in PUBLIC:
                assert (await raw.get(path)).status_code in (200, 503)
    assert checked > 40


def _token(mesh: TestMesh, issuer: str, *, audience: str, subject: str | None = None, roles: list[str] | None = None,
           ttl: timedelta | None = None) -> str:  # fmt: skip
    signer = read_private_key(mesh.root / "keys" / f"{issuer}.key")
    kind = mesh.directory.get(issuer).kind
    now = next(iter(mesh.contexts.values())).clock.now()
    return issue_token(
        signer, subject=subject or issuer, audience=audience, roles=roles or service_roles(kind), now=now, ttl=ttl
    )


async def test_wrong_tokens_get_401_and_wrong_roles_403(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("gs", "ncb.fr", "ncb.es")
    async with mesh.raw_client("ncb.es") as es, mesh.raw_client("gs") as gs:

        def bearer(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        for_de = _token(mesh, "ncb.fr", audience="ncb.de")
        assert (await es.get("/v1/directory", headers=bearer(for_de))).status_code == 401, "token for another audience"
        good = _token(mesh, "ncb.fr", audience="ncb.es")
        assert (await es.get("/v1/directory", headers=bearer(good))).status_code == 200, (
            "an office may read the directory"
        )
        tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
        assert (await es.get("/v1/directory", headers=bearer(tampered))).status_code == 401
        assert (await es.get("/v1/directory", headers=bearer("garbage"))).status_code == 401
        staff_of_fr = _token(mesh, "ncb.fr", audience="ncb.es", subject="alice", roles=["officer"])
        assert (await es.get("/v1/inbox", headers=bearer(staff_of_fr))).status_code == 401, (
            "staff tokens only where issued"
        )

        # Authenticated but not allowed: an NCB calling GS review routes, an officer without the reviewer role.
        ncb_at_gs = _token(mesh, "ncb.fr", audience="gs")
        assert (await gs.get("/v1/review-queue", headers=bearer(ncb_at_gs))).status_code == 403
        officer = _token(mesh, "gs", audience="gs", subject="bob", roles=["officer"])
        assert (await gs.get("/v1/review-queue", headers=bearer(officer))).status_code == 403
        reviewer = _token(mesh, "gs", audience="gs", subject="carol", roles=["reviewer"])
        assert (await gs.get("/v1/review-queue", headers=bearer(reviewer))).status_code == 200
        assert (await es.get("/v1/inbox", headers=bearer(good))).status_code == 403, (
            "another office may not read an inbox"
        )

    failures = await mesh.scalar(
        "ncb.es", sa.select(sa.func.count()).select_from(audit_log).where(audit_log.c.event == "auth-failure")
    )
    assert failures >= 5, "every refused call is in the audit log"


async def test_a_flood_of_refused_calls_is_all_refused_but_audited_within_a_budget(make_mesh: MeshFactory) -> None:
    """One audit write per unauthenticated request would let anyone load the database at will."""
    clock = FakeClock()
    mesh = make_mesh(clock=clock)
    await mesh.start("ncb.es")
    failures = sa.select(audit_log.c.detail).where(audit_log.c.event == "auth-failure").order_by(audit_log.c.seq)
    async with mesh.raw_client("ncb.es") as anonymous:
        statuses = [(await anonymous.get("/v1/inbox")).status_code for _ in range(100)]
        assert statuses == [401] * 100
        written = await mesh.rows("ncb.es", failures)
        assert len(written) == BURST, "the burst is written one by one, the rest counted"

        clock.advance(timedelta(seconds=1))  # the budget refills at RATE_PER_S
        assert (await anonymous.get("/v1/inbox")).status_code == 401
    written = await mesh.rows("ncb.es", failures)
    assert len(written) == BURST + 1
    assert written[-1].detail.startswith("GET /v1/inbox; 80 more refusal(s) not written one by one since ")
