"""Bad HTTP input gets one clear 4xx: malformed token claims (401), coerced inputs (422), bodies too big (413)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ccc_support import bearer
from conftest import MeshFactory
from interpol_mesh.app.exchange_routes import BATCH_BODY_BYTES
from interpol_mesh.app.limits import DEFAULT_BODY_BYTES, too_large_detail
from interpol_mesh.auth.tokens import DOMAIN, PREFIX
from interpol_mesh.crypto import read_private_key
from interpol_mesh.testing.harness import TestMesh


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(mesh: TestMesh, office: str, claims_json: str) -> dict[str, str]:
    """A token whose claims are exactly `claims_json`, validly signed with `office`'s real key."""
    signer = read_private_key(mesh.root / "keys" / f"{office}.key")
    body = _b64(claims_json.encode())
    return {"Authorization": f"Bearer {PREFIX}.{body}.{_b64(signer.sign(DOMAIN + body.encode()))}"}


def _claims(mesh: TestMesh, office: str, **changes: Any) -> dict[str, Any]:
    now = int(next(iter(mesh.contexts.values())).clock.now().timestamp())
    signer = read_private_key(mesh.root / "keys" / f"{office}.key")
    claims: dict[str, Any] = {
        "iss": office, "kid": signer.key_id, "sub": "alice", "aud": office,
        "roles": ["officer"], "iat": now, "exp": now + 600,
    }  # fmt: skip
    for name, value in changes.items():
        if value is ...:
            del claims[name]
        else:
            claims[name] = value
    return claims


MALFORMED: dict[str, dict[str, Any]] = {
    "iat missing": {"iat": ...},
    "exp missing": {"exp": ...},
    "iat a string": {"iat": "1767225600"},
    "iat a boolean": {"iat": True},
    "exp a float": {"exp": 1.5e9},
    "exp huge": {"exp": 10**30},
    "exp past any datetime": {"exp": 10**12},
    "iat negative": {"iat": -1},
    "sub a number": {"sub": 5},
    "iss a list": {"iss": ["ncb.es"]},
    "aud null": {"aud": None},
    "roles a string": {"roles": "officer"},
    "roles not strings": {"roles": [1, True]},
    "roles missing": {"roles": ...},
    "an extra claim": {"admin": True},
}


async def test_validly_signed_tokens_with_malformed_claims_are_401_not_500(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.es", "ccc")
    async with mesh.raw_client("ncb.es") as es, mesh.raw_client("ccc") as ccc:
        assert (await es.get("/v1/inbox", headers=_signed(mesh, "ncb.es", json.dumps(_claims(mesh, "ncb.es"))))).status_code == 200, "the well-formed control token is good"  # fmt: skip
        for case, changes in MALFORMED.items():
            headers = _signed(mesh, "ncb.es", json.dumps(_claims(mesh, "ncb.es", **changes)))
            refused = await es.get("/v1/inbox", headers=headers)
            assert (refused.status_code, refused.json()["detail"]) == (401, "invalid token: malformed token"), case
        duplicate = json.dumps(_claims(mesh, "ncb.es"))[:-1] + ', "sub": "mallory"}'
        refused = await es.get("/v1/inbox", headers=_signed(mesh, "ncb.es", duplicate))
        assert (refused.status_code, refused.json()["detail"]) == (401, "invalid token: malformed token"), "sub twice"
        for case, claims_json in {"a list": "[1, 2]", "kid a number": '{"kid": 5}', "not JSON": "{"}.items():
            assert (await es.get("/v1/inbox", headers=_signed(mesh, "ncb.es", claims_json))).status_code == 401, case

        # The CCC reads mesh staff tokens with the same verify_token.
        good = _claims(mesh, "ccc", sub="sg.koh")
        assert (await ccc.get("/v1/operators/me", headers=_signed(mesh, "ccc", json.dumps(good)))).status_code == 200
        for case in ("iat a boolean", "exp huge", "iat missing"):
            headers = _signed(mesh, "ccc", json.dumps(_claims(mesh, "ccc", sub="sg.koh", **MALFORMED[case])))
            refused = await ccc.get("/v1/operators/me", headers=headers)
            assert refused.status_code == 401 and "malformed token" in refused.json()["detail"], case


HIT = {
    "notice_id": "2026-00001",
    "hit_at": "2026-01-05T10:30:00Z",
    "place": "Aeropuerto de Madrid-Barajas",
    "description": "Coincidencia de pasaporte y huellas.",
    "subject_detained": True,
}


async def test_api_inputs_are_strict_json_no_bool_or_string_to_number_coercion(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.es", "ccc")
    es = mesh.client("ncb.es")
    for case, body in {
        "detained as 1": {**HIT, "subject_detained": 1},
        "detained as a string": {**HIT, "subject_detained": "yes"},
        "time as a number": {**HIT, "hit_at": 1767609000},
        "time as a boolean": {**HIT, "hit_at": True},
    }.items():
        refused = await es.post("/v1/hits", json={"body": body})
        assert refused.status_code == 422, (case, refused.text)
    assert (await es.post("/v1/messages", json={"recipients": ["ncb.fr"], "priority": 1, "body": {"title": "t", "text": "x"}})).status_code == 422  # fmt: skip
    for language in ("!!", "en-" + "x" * 40):  # not a tag; longer than the 35 characters storage holds
        message = {"recipients": ["ncb.fr"], "language": language, "body": {"title": "t", "text": "x"}}
        assert (await es.post("/v1/messages", json=message)).status_code == 422, language
    parsed = await es.post("/v1/hits", json={"body": HIT})
    assert parsed.status_code == 404, "a valid ISO time still parses (the notice is unknown here)"

    ccc = mesh.client("ccc")
    path = "/v1/operators/sg.tan/tokens"
    for hours in (True, "12", 12.0):
        refused = await ccc.post(path, json={"hours": hours}, headers=bearer(mesh, "sg.koh"))
        assert refused.status_code == 422, (hours, refused.text)
    assert (await ccc.post(path, json={"hours": 12}, headers=bearer(mesh, "sg.koh"))).status_code == 201


async def _chunks(total: int, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    block = b"x" * chunk
    while total > 0:
        yield block[: min(chunk, total)]
        total -= chunk


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_bodies_over_the_route_limit_get_413_before_authentication(
    make_mesh: MeshFactory, declared: bool
) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.es")

    async def post(path: str, size: int) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if declared:
            headers["Content-Length"] = str(size)
        async with mesh.raw_client("ncb.es") as anonymous:
            response = await anonymous.post(path, content=_chunks(size), headers=headers)
        return response.status_code, response.json()

    assert await post("/v1/messages", DEFAULT_BODY_BYTES + 1) == (413, {"detail": too_large_detail(DEFAULT_BODY_BYTES)})
    assert (await post("/v1/messages", DEFAULT_BODY_BYTES))[0] == 422, "at the limit the body is read (and is no JSON)"
    assert (await post("/v1/messages/batch", DEFAULT_BODY_BYTES * 4))[0] == 422, "the batch route takes more"
    assert (await post("/v1/messages/batch", BATCH_BODY_BYTES + 1))[0] == 413
    unread = 413 if declared else 404  # a chunked body nobody reads is never received past the socket buffers
    assert (await post("/v1/no-such-route", DEFAULT_BODY_BYTES + 1))[0] == unread
