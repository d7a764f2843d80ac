"""Authorization on data: every GET route of every office returns only what the caller may see.

The 401/403 walk (test_api_auth.py) proves each route checks who calls; this one proves the
records behind the routes follow the notice's distribution and status. One office of each role
runs; ncb.fr requests a Red Notice that excludes Germany (published) and a Yellow Notice about a
missing minor restricted to Spain (still pending review). Then ncb.de, with its office token and
with its own staff's, calls every GET route of every office with the restricted ids in every
path parameter and query variant, and no byte of either notice may come back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ccc_support import case_for_message
from conftest import MeshFactory
from interpol_mesh.auth import issue_token, service_roles
from interpol_mesh.crypto import read_private_key
from interpol_mesh.ids import new_message_id
from interpol_mesh.messages import NoticeRequest
from interpol_mesh.notices import store
from interpol_mesh.testing.harness import STAFF_ROLES, StaffToken, TestMesh, wait_until
from test_notices import decide, notice_at, red, request_notice

OFFICES = ("gs", "ccc", "ncb.fr", "ncb.de", "ncb.es", "rb.nairobi", "lo.eu-brussels")
EXCLUDED = "ncb.de"
DECISION_REASON = "Ordinary-law homicide; thresholds met per file R-5521-QZ."
WARRANT = "MA-2025-7781-QX"

RED_BODY = red(
    title="Recherché pour le triple homicide de Villeurbanne",
    person={"family_name": "VANDERQUAST", "given_names": "Ottokar", "sex": "male", "nationalities": ["FR"]},
    arrest_warrant={
        "reference": WARRANT,
        "issuing_authority": "Tribunal judiciaire de Lyon",
        "issued_on": "2025-03-10",
    },
    distribution={"mode": "deny", "countries": ["DE"]},
)
YELLOW_BODY: dict[str, Any] = {
    "notice_type": "yellow",
    "title": "Disparition inquiétante d'une mineure à Perpignan",
    "person": {"family_name": "ESCARTIN-MOULIS", "given_names": "Lilou", "sex": "female", "nationalities": ["FR"]},
    "person_status": "missing",
    "purpose": "Localiser une mineure disparue, possiblement emmenée en Espagne.",
    "distribution": {"mode": "allow", "countries": ["ES"]},
}


@dataclass
class Restricted:
    red_id: str
    yellow_id: str
    event_id: str  # the signed publication of the Red Notice
    hit_id: str  # a hit report on it by an allowed NCB
    case_id: str  # the CCC case the hit opened

    def ids(self) -> list[str]:
        return [self.red_id, self.yellow_id, self.event_id, self.hit_id, self.case_id]

    def secrets(self) -> list[str]:
        """Every string that would show the excluded office either notice exists or what it says."""
        texts = [RED_BODY["title"], "VANDERQUAST", "Ottokar", WARRANT, DECISION_REASON, "ndtf.martin"]
        texts += [YELLOW_BODY["title"], "ESCARTIN-MOULIS", "Lilou", "Perpignan"]
        return self.ids() + texts


async def restricted_notices(mesh: TestMesh) -> Restricted:
    await mesh.start(*OFFICES)
    red_id = (await request_notice(mesh, "ncb.fr", RED_BODY))["notice_id"]
    await notice_at(mesh, "gs", red_id, "pending-review")
    published = await decide(mesh, red_id, "publish", DECISION_REASON)
    assert published.status_code == 200, published.text
    assert EXCLUDED not in published.json()["recipients"]
    await notice_at(mesh, "ncb.es", red_id, "published")
    hit = {"notice_id": red_id, "hit_at": "2026-01-05T10:30:00Z", "place": "Port de Barcelona", "description": "Match"}
    sent = await mesh.client("ncb.es").post("/v1/hits", json={"language": "es-ES", "body": hit})
    assert sent.status_code == 202, sent.text
    hit_id = sent.json()["message_id"]
    case = await wait_until(lambda: case_for_message(mesh, hit_id), what="the CCC case for the hit")

    async def hit_at_requester() -> bool:
        copy = (await mesh.client("ncb.fr").get(f"/v1/notices/{red_id}")).json()
        return copy["status"] == "published" and copy["history"][-1]["action"] == "hit"

    await wait_until(hit_at_requester, what="the hit in the requester's copy")

    yellow_id = (await request_notice(mesh, "ncb.fr", YELLOW_BODY))["notice_id"]
    await notice_at(mesh, "gs", yellow_id, "pending-review")  # never decided: it stays pending
    return Restricted(red_id, yellow_id, published.json()["message_id"], hit_id, case["case_id"])


def office_token(mesh: TestMesh, office: str, audience: str) -> str:
    """Signed with the office's key file, so the calling office need not run here."""
    signer = read_private_key(mesh.root / "keys" / f"{office}.key")
    roles = service_roles(mesh.directory.get(office).kind)
    return issue_token(signer, subject=office, audience=audience, roles=roles, now=mesh.ctx(audience).clock.now())


def staff_token(mesh: TestMesh, office: str, audience: str) -> str:
    ctx = mesh.ctx(office)
    return issue_token(ctx.signer, subject="de.officer", audience=audience, roles=STAFF_ROLES, now=ctx.clock.now())


QUERY_VALUES: dict[str, list[str]] = {
    "notice_type": ["red", "yellow"],
    "status": ["published", "pending-review", "submitted", "cancelled", "refused", "dispatched"],
    "requesting_office": ["ncb.fr"],
    "office_id": ["ncb.fr", "gs"],
    "limit": ["1"],
}


def calls(spec: dict[str, Any], ids: list[str]) -> Iterator[tuple[str, str | None, dict[str, str]]]:
    """(route, path value, query) for every GET route: each path parameter in turn set to each id, and
    each query parameter alone set to each value that could select the restricted items."""
    for route, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        values: list[str | None] = list(ids) if "{" in route else [None]
        for value in values:
            yield route, value, {}
            for param in get.get("parameters", []):
                name = param["name"]
                if param["in"] != "query":
                    continue
                for choice in QUERY_VALUES.get(name, []) + (["~", *ids] if name == "cursor" else []):
                    yield route, value, {name: choice}


def concrete(route: str, value: str | None) -> str:
    return route if value is None else re.sub(r"\{[^}]+\}", value, route)


def without(text: str, sent: list[str]) -> str:
    """The response with the values the caller itself sent removed (a 404 may echo them)."""
    for value in sent:
        text = text.replace(value, "")
    return text


async def test_an_excluded_office_finds_no_byte_of_a_restricted_notice_on_any_get_route(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    restricted = await restricted_notices(mesh)
    secrets = restricted.secrets()
    checked, answered = 0, 0
    for office in OFFICES:
        async with mesh.raw_client(office) as raw:
            spec = (await raw.get("/openapi.json")).json()
            for route, value, query in calls(spec, restricted.ids()):
                for token in (office_token(mesh, EXCLUDED, office), staff_token(mesh, EXCLUDED, office)):
                    auth = {"Authorization": f"Bearer {token}"}
                    response = await raw.get(concrete(route, value), params=query, headers=auth)
                    what = f"{EXCLUDED} GET {office}{concrete(route, value)}?{query}: {response.status_code}"
                    assert response.status_code < 500, what
                    leaked = [s for s in secrets if s in without(response.text, [value or "", *query.values()])]
                    assert not leaked, f"{what} shows {leaked}: {response.text[:400]}"
                    if value is not None:  # a hidden record is answered exactly like an absent one
                        fake = new_message_id(mesh.ctx(office).clock)
                        absent = await raw.get(concrete(route, fake), params=query, headers=auth)
                        assert (absent.status_code, absent.text.replace(fake, value)) == (
                            response.status_code,
                            response.text,
                        ), what
                    checked += 1
                    answered += response.status_code == 200
    assert checked > 300 and answered > 50, (checked, answered)

    # The walk would have caught a leak: an allowed NCB gets the published notice on these very routes.
    async with mesh.raw_client("gs") as gs:
        allowed = bearer(mesh, "ncb.es", "gs")
        listed = (await gs.get("/v1/notices", headers=allowed)).text
        assert restricted.red_id in listed and WARRANT not in listed  # the list shows summaries only
        assert WARRANT in (await gs.get(f"/v1/notices/{restricted.red_id}", headers=allowed)).text


def bearer(mesh: TestMesh, caller: str, at: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {office_token(mesh, caller, at)}"}


async def test_each_reader_gets_what_the_notice_entitles_it_to(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    r = await restricted_notices(mesh)
    gs = mesh.client("gs")

    # GS reviewers see the whole record, screening and review included.
    full = (await gs.get(f"/v1/notices/{r.red_id}")).json()
    assert full["screening"]["auto_checks_passed"] and full["reviewer"] == "ndtf.martin"
    assert full["decision_reason"] == DECISION_REASON
    assert {"received", "published"} <= {e["action"] for e in full["history"]}
    assert [n["notice_id"] for n in (await gs.get("/v1/notices")).json()["items"]] == [r.yellow_id, r.red_id]

    # Other GS staff see the notice but not the deliberation.
    officer = await gs.get(f"/v1/notices/{r.red_id}", auth=StaffToken(mesh.ctx("gs"), roles=["officer"]))
    held = officer.json()
    assert held["request"]["arrest_warrant"]["reference"] == WARRANT
    assert held["screening"] is None and held["reviewer"] is None and held["decision_reason"] is None
    assert all(e["actor"] is None and e["reason"] is None for e in held["history"])
    assert DECISION_REASON not in officer.text and "ndtf.martin" not in officer.text

    # The requester follows its pending request at the GS, without the screening or the reviewer.
    pending = await gs.get(f"/v1/notices/{r.yellow_id}", headers=bearer(mesh, "ncb.fr", "gs"))
    assert pending.status_code == 200 and pending.json()["status"] == "pending-review"
    assert pending.json()["screening"] is None and pending.json()["reviewer"] is None
    own = await gs.get(f"/v1/notices/{r.red_id}", headers=bearer(mesh, "ncb.fr", "gs"))
    assert own.json()["status"] == "published" and own.json()["decision_reason"] is None
    assert DECISION_REASON not in own.text and "ndtf.martin" not in own.text
    assert {
        n["notice_id"] for n in (await gs.get("/v1/notices", headers=bearer(mesh, "ncb.fr", "gs"))).json()["items"]
    } == {r.red_id, r.yellow_id}

    # An allowed NCB sees the published Red Notice, at the GS and at the requester, but not the
    # pending Yellow Notice (though its country is on that notice's allow-list), nor others' hits.
    for at in ("gs", "ncb.fr"):
        allowed = bearer(mesh, "ncb.es", at)
        page = (await mesh.client(at).get("/v1/notices", params={"limit": 1}, headers=allowed)).json()
        assert [n["notice_id"] for n in page["items"]] == [r.red_id] and page["next_cursor"] is None, at
        copy = await mesh.client(at).get(f"/v1/notices/{r.red_id}", headers=allowed)
        assert copy.status_code == 200 and copy.json()["request"]["arrest_warrant"]["reference"] == WARRANT
        assert copy.json()["distribution"]["mode"] == "deny" and copy.json()["screening"] is None
        assert all(e["action"] != "hit" and e["message_id"] is None for e in copy.json()["history"]), at
        assert DECISION_REASON not in copy.text and "Barcelona" not in copy.text
        hidden = await mesh.client(at).get(f"/v1/notices/{r.yellow_id}", headers=allowed)
        absent = await mesh.client(at).get("/v1/notices/no-such-notice", headers=allowed)
        assert hidden.status_code == absent.status_code == 404
        assert hidden.json()["detail"].replace(r.yellow_id, "?") == absent.json()["detail"].replace(
            "no-such-notice", "?"
        )

    # The excluded NCB, a regional bureau and a liaison office see neither notice anywhere.
    for caller in (EXCLUDED, "rb.nairobi", "lo.eu-brussels"):
        for at in ("gs", "ncb.fr", "ncb.es"):
            assert (await mesh.client(at).get("/v1/notices", headers=bearer(mesh, caller, at))).json() == {
                "items": [],
                "next_cursor": None,
            }, (caller, at)


async def test_paging_counts_only_what_the_reader_may_see(make_mesh: MeshFactory) -> None:
    """Hidden notices between visible ones neither shorten a page nor end up as its cursor."""
    mesh = make_mesh()
    await mesh.start("gs")
    ctx = mesh.ctx("gs")
    visible: list[str] = []
    async with ctx.transaction() as uow:
        conn = uow.conn
        for i in range(12):
            distribution = {"mode": "deny", "countries": ["ES"]} if i % 3 == 0 else {"mode": "all"}
            status = "pending-review" if i % 4 == 1 else "published"
            request = NoticeRequest.model_validate({**red(distribution=distribution), "requesting_office": "ncb.fr"})
            notice_id = new_message_id(ctx.clock)
            await store.insert_notice(conn, notice_id=notice_id, request=request, status=status, now=ctx.clock.now())
            if i % 3 and status == "published":
                visible.append(notice_id)
    pages, cursor = [], None
    async with mesh.raw_client("gs") as gs:
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await gs.get("/v1/notices", params=params, headers=bearer(mesh, "ncb.es", "gs"))).json()
            pages.append([n["notice_id"] for n in page["items"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
            assert cursor in visible
    assert [i for p in pages for i in p] == sorted(visible, reverse=True)
    assert [len(p) for p in pages] == [2] * (len(visible) // 2) + ([len(visible) % 2] if len(visible) % 2 else [])
