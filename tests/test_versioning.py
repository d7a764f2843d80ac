"""Versioning on the real bus: unknown v1 fields are ignored, another major version is refused.

Within v1 a sender may add optional fields (proto-schemas/README.md, "Versioning"): a receiver that
does not know them accepts the properly signed message, its handler sees only the model, and the
verification record names what was ignored. Every known field keeps its strict checks. A payload
type of another major version (`….v2+json`) is `unsupported-version`, quarantined and audited, and
the consumer goes on. The HTTP API still refuses unknown fields (422).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import MeshFactory
from envelopes import header_fields, signed_fields, signer_of
from interpol_mesh.audit.tables import audit_log
from interpol_mesh.bus import subjects
from interpol_mesh.clock import SystemClock
from interpol_mesh.crypto import FileSigner, pae
from interpol_mesh.directory import Office
from interpol_mesh.envelope import Verified
from interpol_mesh.envelope.codec import _SIGNED
from interpol_mesh.envelope.unknown_fields import MAX_RECORDED, prune, recorded
from interpol_mesh.messages import Diffusion, FreeTextMessage, NoticeEvent, Person
from interpol_mesh.messages.registry import other_major
from interpol_mesh.messaging import OfficeRole, UnitOfWork
from interpol_mesh.natsd import NatsServer
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import Backend, TestMesh, wait_until
from interpol_offices.roles import role_for

TO_ES = ["ncb.es"]
BODY = {"title": "Request", "text": "Please confirm the registration of vehicle WDB123."}


def _signed_as(ptype: str, payload: dict[str, Any], signer: FileSigner) -> bytes:
    """Exactly this payload type and content, properly signed (PAE binds the type in)."""
    data = json.dumps(payload).encode()
    sig = base64.b64encode(signer.sign(pae(ptype, data))).decode()
    outer = {"payloadType": ptype, "payload": base64.b64encode(data).decode(),
             "signatures": [{"keyid": signer.key_id, "sig": sig}]}  # fmt: skip
    return json.dumps(outer).encode()


def _capturing(seen: list[Verified]) -> Callable[[Office], OfficeRole]:
    """ncb.es's usual role, recording every message and diffusion its handlers are given."""

    def build(office: Office) -> OfficeRole:
        role = role_for(office)
        if office.id != "ncb.es":
            return role
        handlers = dict(role.handlers)
        for kind in ("message", "diffusion"):
            usual = role.handlers.get(kind)

            async def capture(uow: UnitOfWork, verified: Verified, usual: Any = usual) -> None:
                seen.append(verified)
                if usual is not None:
                    await usual(uow, verified)

            handlers[kind] = capture
        role.handlers = handlers
        return role

    return build


async def _publish(mesh: TestMesh, sender: str, cases: list[bytes], barrier_text: str) -> None:
    """Publish each case, then one plain valid message; return once that one is in the inbox."""
    signer = signer_of(mesh.root / "keys", sender)
    barrier = signed_fields(header_fields(sender, TO_ES), {**BODY, "text": barrier_text}, signer)
    nc = await mesh.connect_as(sender)
    try:
        js = nc.jetstream()
        for i, data in enumerate([*cases, barrier]):
            await js.publish(subjects.direct(sender, "ncb.es"), data, headers={"Nats-Msg-Id": f"{barrier_text}-{i}"})
    finally:
        await nc.close()
    inbox = tables.inbox

    async def barrier_in() -> bool:
        texts = [r.body.get("text") for r in await mesh.rows("ncb.es", sa.select(inbox.c.body))]
        return barrier_text in texts

    await wait_until(barrier_in, what="the valid message published after the cases")


async def test_unknown_optional_fields_are_ignored_and_named_while_known_ones_stay_strict(
    tmp_path: Path, nats_server: NatsServer, backend: Backend
) -> None:
    seen: list[Verified] = []
    mesh = TestMesh(root=tmp_path / "mesh", nats_url=nats_server.url, backend=backend, role_for=_capturing(seen))
    try:
        await mesh.start("ncb.es")
        fr = signer_of(mesh.root / "keys", "ncb.fr")
        in_body = header_fields("ncb.fr", TO_ES)
        in_header = header_fields("ncb.fr", TO_ES) | {"x_route_hint": {"via": "lyon"}}
        nested = header_fields("ncb.fr", TO_ES, kind="diffusion")
        person = {"family_name": "Durand", "nationalities": ["FR"], "x_biometric_ref": "bio-1"}
        diffusion = {"diffusion_type": "information", "title": "Info", "text": "Seen in Lyon.", "person": person}
        now = SystemClock().now()
        cases = [
            signed_fields(in_body, BODY | {"x_new_body": [1, 2]}, fr),
            signed_fields(in_header, BODY, fr),
            signed_fields(nested, diffusion | {"x_top": None}, fr, kind="diffusion"),
            # Known fields keep every strict check, whatever else the message carries.
            signed_fields(header_fields("ncb.fr", TO_ES), BODY | {"x_new": 1, "request_for_assistance": 1}, fr),
            signed_fields(header_fields("ncb.fr", TO_ES, created_at=int(now.timestamp())) | {"x_new": 1}, BODY, fr),
            signed_fields(
                header_fields("ncb.fr", TO_ES, kind="diffusion"),
                diffusion | {"person": person | {"sex": "other"}},
                fr,
                kind="diffusion",
            ),
        ]
        await _publish(mesh, "ncb.fr", cases, "after the unknown fields")

        ignored = {
            in_body["message_id"]: ["body.x_new_body"],
            in_header["message_id"]: ["header.x_route_hint"],
            nested["message_id"]: ["body.person.x_biometric_ref", "body.x_top"],
        }
        for mid, paths in ignored.items():
            view = (await mesh.client("ncb.es").get(f"/v1/inbox/{mid}")).json()
            assert view["verification"]["ignored_fields"] == paths, view
            assert not any("x_" in key for key in view["body"]), view["body"]
        by_id = {v.header.message_id: v for v in seen}
        assert isinstance(by_id[in_body["message_id"]].body, FreeTextMessage)
        got = by_id[nested["message_id"]].body
        assert isinstance(got, Diffusion) and isinstance(got.person, Person)
        assert got.person.family_name == "Durand" and got.person.nationalities == ("FR",)
        assert "x_biometric_ref" not in got.person.model_dump()
        assert by_id[in_header["message_id"]].ignored_fields == ("header.x_route_hint",)
        # The stored envelope is still the exact signed bytes, unknown fields included.
        raw = await mesh.scalar(
            "ncb.es", sa.select(tables.inbox.c.envelope).where(tables.inbox.c.message_id == nested["message_id"])
        )
        assert b"x_biometric_ref" in base64.b64decode(json.loads(raw)["payload"])
        plain = (await mesh.client("ncb.es").get("/v1/inbox", params={"kind": "message"})).json()["items"]
        barrier = next(i for i in plain if i["title"] == "Request" and i["message_id"] not in ignored)
        view = (await mesh.client("ncb.es").get(f"/v1/inbox/{barrier['message_id']}")).json()
        assert view["verification"]["ignored_fields"] == []

        q = tables.quarantine
        reasons = [r.reason for r in await mesh.rows("ncb.es", sa.select(q.c.reason).order_by(q.c.id))]
        assert reasons == ["schema-invalid", "malformed", "schema-invalid"]
    finally:
        await mesh.close()


async def test_another_major_version_is_refused_quarantined_audited_and_the_consumer_goes_on(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.es")
    fr = signer_of(mesh.root / "keys", "ncb.fr")
    v2 = header_fields("ncb.fr", TO_ES)
    v3_new_kind = header_fields("ncb.fr", TO_ES) | {"kind": "case-transfer"}
    cases = [
        _signed_as("application/vnd.interpol-mesh.message.v2+json", {"header": v2, "body": BODY}, fr),
        _signed_as("application/vnd.interpol-mesh.case-transfer.v3+json", {"header": v3_new_kind, "body": {}}, fr),
        _signed_as("application/vnd.interpol-mesh.case-transfer.v1+json", {"header": v3_new_kind, "body": {}}, fr),
        _signed_as("application/vnd.interpol-mesh.message.v01+json", {"header": v2, "body": BODY}, fr),
    ]
    await _publish(mesh, "ncb.fr", cases, "after the other versions")

    quarantine = (await mesh.client("ncb.es").get("/v1/quarantine")).json()
    got = [(q["reason"], q["detail"]) for q in reversed(quarantine)]
    assert [r for r, _ in got] == ["unsupported-version", "unsupported-version", "unsupported-type", "unsupported-type"]
    assert "is v2; this receiver speaks v1" in got[0][1] and "is v3" in got[1][1]
    audited = await mesh.rows(
        "ncb.es", sa.select(audit_log.c.result).where(audit_log.c.event == "rejected").order_by(audit_log.c.seq)
    )
    assert [r.result for r in audited] == [r for r, _ in got]
    summary = (await mesh.client("ncb.es").get("/v1/quarantine/summary")).json()
    assert summary["by_reason"]["unsupported-version"] == 2


async def test_the_api_still_refuses_unknown_fields(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.fr")
    client = mesh.client("ncb.fr")
    body = BODY | {"x_new": 1}
    refused = await client.post("/v1/messages", json={"recipients": TO_ES, "body": body})
    assert refused.status_code == 422 and "x_new" in refused.text
    person = {"family_name": "Durand", "x_new": 1}
    diffusion = {"diffusion_type": "information", "title": "Info", "text": "Seen.", "person": person}
    assert (await client.post("/v1/diffusions", json={"recipients": TO_ES, "body": diffusion})).status_code == 422


@pytest.mark.parametrize(
    ("ptype", "major"),
    [
        ("application/vnd.interpol-mesh.message.v2+json", 2),
        ("application/vnd.interpol-mesh.anything-new.v10+json", 10),
        ("application/vnd.interpol-mesh.message.v0+json", 0),
        ("application/vnd.interpol-mesh.message.v1+json", None),  # v1 is ours: known or unknown type
        ("application/vnd.interpol-mesh.wiretransfer.v1+json", None),
        ("application/vnd.interpol-mesh.message.v01+json", None),
        ("application/vnd.interpol-mesh.Message.v2+json", None),
        ("application/vnd.interpol-mesh.message.v2+json ", None),
        ("application/vnd.other.message.v2+json", None),
        ("application/json", None),
    ],
)
def test_which_payload_types_are_another_major_version(ptype: str, major: int | None) -> None:
    assert other_major(ptype) == major


def test_pruning_follows_the_models_into_optional_models_and_tuples() -> None:
    request = {"payloadType": "t", "payload": "p", "signatures": [{"keyid": "k", "sig": "s", "x_alg": "ed"}], "x": 1}
    data = {
        "header": {"message_id": "m", "x_h": 1},
        "body": {"notice": {"person": {"family_name": "A", "x_p": {"deep": 1}}, "x_n": 1}, "request": request},
    }
    pruned, ignored = prune(_SIGNED["notice-event"], data)
    assert ignored == [
        "header.x_h",
        "body.notice.person.x_p",
        "body.notice.x_n",
        "body.request.signatures.0.x_alg",
        "body.request.x",
    ]
    assert pruned["body"]["request"] == {"payloadType": "t", "payload": "p", "signatures": [{"keyid": "k", "sig": "s"}]}
    # Values of the wrong JSON type are left for strict validation to refuse, never reshaped.
    odd = {
        "header": [],
        "body": {"notice": {"person": "not an object"}, "expires_at": None, "request": {"signatures": "x"}},
    }
    assert prune(_SIGNED["notice-event"], odd) == (odd, [])
    assert prune(NoticeEvent, {"x": 1}) == ({}, ["x"])
    many = recorded([f"body.x{i}" for i in range(MAX_RECORDED + 5)])
    assert len(many) == MAX_RECORDED + 1 and many[-1] == "… and 5 more"
