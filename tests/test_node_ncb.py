"""A national system in another language joins the running mesh from the contract alone.

The Node.js NCB (interop/node/ncb-client.js, the official `nats` npm client) is one office of the
directory that no Python service runs for: it connects with that office's own NKey over TLS, is
held to the same server permissions as any office (tests' nats-server is secured as in production),
verifies the GS-signed key directory against the trust anchor, signs with the office's own key,
sends a message to a Python NCB, checks that NCB's receipts against the digest of the bytes it
sent, and answers the NCB's reply with its own signed `delivered` receipt before acking it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import node_tools
from barriers import caught_up
from conftest import MeshFactory
from interpol_mesh.bus import StreamPlan, subjects
from interpol_mesh.crypto.provisioning import TRUST_ANCHOR_FILE, key_file
from interpol_mesh.messaging.receipts import receipt_for
from interpol_mesh.natsd import NatsServer
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "interop" / "node"
NODE_OFFICE = "ncb.ca"  # an NCB of the directory, provisioned like every office; its system is the Node client
PYTHON_NCB = "ncb.fr"
CLIENT_TIMEOUT_S = 60


def require_node() -> str:
    return node_tools.require_node("Node.js national client", "nats")


def client_config(mesh: TestMesh, server: NatsServer, path: Path) -> Path:
    """Everything the national client gets from the mesh's provisioning: its own files, never another's."""
    settings = mesh.settings(NODE_OFFICE)
    key_dir = settings.key_dir
    config = {
        "nats_url": server.url,
        "office_id": NODE_OFFICE,
        "peer_id": PYTHON_NCB,
        "nkey_seed_file": str(settings.nkey_seed(NODE_OFFICE)),
        "signing_key_file": str(key_file(key_dir, NODE_OFFICE)),
        "trust_anchor_file": str(key_dir / TRUST_ANCHOR_FILE),
        "tls_ca_file": str(settings.tls_ca()),
        "inbox_stream": StreamPlan(mesh.directory).inbox_stream(NODE_OFFICE),
        "consumer": subjects.consumer_name(NODE_OFFICE),
        "key_directory_streams": list(StreamPlan(mesh.directory).key_streams(NODE_OFFICE)),
        "language": "en-CA",
        "message": {
            "title": "Request from Ottawa",
            "text": "Please confirm the identity.",
            "request_for_assistance": True,
        },
        "expect": {"receipts": ["delivered", "acknowledged"], "messages": 1},
        "timeout_s": CLIENT_TIMEOUT_S,
    }
    path.write_text(json.dumps(config, indent=2))
    return path


async def publish_forged_receipt(mesh: TestMesh, node_mid: str) -> str:
    """An `acknowledged` receipt signed by the Python NCB's real key, for the Node message, over other bytes."""
    ctx = mesh.ctx(PYTHON_NCB)
    out = receipt_for(ctx, "acknowledged", to=NODE_OFFICE, message_id=node_mid, digest="0" * 64, at=ctx.clock.now())
    mid = out.header.message_id
    headers = {"Nats-Msg-Id": f"{mid}:{NODE_OFFICE}:forged"}
    await ctx.js.publish(subjects.direct(PYTHON_NCB, NODE_OFFICE), out.sealed.data, headers=headers)
    return mid


async def run_client(node: str, config: Path, stderr_path: Path) -> asyncio.subprocess.Process:
    with stderr_path.open("wb") as stderr:
        return await asyncio.create_subprocess_exec(
            node, str(NODE_DIR / "ncb-client.js"), "--config", str(config),
            cwd=NODE_DIR, stdout=asyncio.subprocess.PIPE, stderr=stderr,
        )  # fmt: skip


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_node_ncb_sends_receives_and_proves_delivery_with_digests(
    make_mesh: MeshFactory, nats_server: NatsServer, tmp_path: Path
) -> None:
    node = require_node()
    mesh = make_mesh()
    await mesh.start("gs", PYTHON_NCB)  # the GS publishes the key directory the client verifies
    config = client_config(mesh, nats_server, tmp_path / "ncb-client.json")
    stderr_path = tmp_path / "ncb-client.stderr"
    proc = await run_client(node, config, stderr_path)
    fr = mesh.client(PYTHON_NCB)
    try:

        async def node_message() -> list[dict[str, Any]]:
            if proc.returncode is not None:
                raise AssertionError(f"the Node client exited early ({proc.returncode}): {stderr_path.read_text()}")
            page = (await fr.get("/v1/inbox", params={"kind": "message"})).json()
            return [i for i in page["items"] if i["sender"] == NODE_OFFICE]

        [item] = await wait_until(
            node_message, timeout=CLIENT_TIMEOUT_S, what=f"the Node message in {PYTHON_NCB}'s inbox"
        )
        node_mid = item["message_id"]
        one = (await fr.get(f"/v1/inbox/{node_mid}")).json()
        assert one["body"]["title"] == "Request from Ottawa" and one["language"] == "en-CA"
        assert one["verification"]["key_id"].startswith(f"{NODE_OFFICE}/")
        # A genuine signature over a false claim: ncb.fr "acknowledges" bytes the Node office never sent.
        forged = await publish_forged_receipt(mesh, node_mid)
        assert (await fr.post(f"/v1/inbox/{node_mid}/acknowledge")).status_code == 200

        reply = await fr.post(
            "/v1/messages",
            json={"recipients": [NODE_OFFICE], "language": "fr-FR", "correlation_id": node_mid,
                  "body": {"title": "Réponse de Lyon", "text": "Identité confirmée."}},
        )  # fmt: skip
        assert reply.status_code == 202, reply.text
        reply_mid, reply_digest = reply.json()["message_id"], reply.json()["digest_sha256"]
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=CLIENT_TIMEOUT_S + 15)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = stderr_path.read_text()
    assert proc.returncode == 0, f"Node client failed ({proc.returncode}): {out.decode()} {log}"
    summary = json.loads(out.decode().splitlines()[-1])
    assert summary["ok"] is True and summary["error"] is None, summary
    [refused] = summary["refused"]
    assert refused["reason"] == "receipt-mismatch" and refused["message_id"] == forged, refused
    assert "is not that of the envelope sent" in refused["detail"], refused

    # What the Node office sent is what the Python NCB stored, byte for byte.
    sent = summary["sent"]
    assert sent["message_id"] == node_mid and sent["subject"] == f"mesh.v1.direct.ncb_ca.{PYTHON_NCB.replace('.', '_')}"
    assert one["verification"]["digest_sha256"] == sent["digest"]
    assert sent["nats_msg_id"].startswith(f"{node_mid}:{PYTHON_NCB}:")

    # Both receipts verified, each carrying the digest of the exact bytes the Node office published.
    receipts = {r["receipt_type"]: r for r in summary["receipts"]}
    assert set(receipts) == {"delivered", "acknowledged"}
    for r in receipts.values():
        assert r["for_message_id"] == node_mid and r["from"] == PYTHON_NCB and r["verified"] is True
        assert r["digest"] == sent["digest"] and r["digest_matches"] is True
        assert r["key_id"].startswith(f"{PYTHON_NCB}/") and r["message_id"] != forged

    # The reply was verified and answered with a delivered receipt over the digest of what arrived.
    [received] = summary["received"]
    assert received["message_id"] == reply_mid and received["from"] == PYTHON_NCB
    assert received["correlation_id"] == node_mid and received["digest"] == reply_digest
    assert received["receipt"]["for_digest"] == reply_digest

    async def delivered_to_node() -> bool:
        status = (await fr.get(f"/v1/sent/{reply_mid}")).json()
        return any(r["recipient"] == NODE_OFFICE and r["delivered_at"] for r in status["recipients"])

    await wait_until(delivered_to_node, what=f"{PYTHON_NCB} to record the Node office's delivered receipt")
    await caught_up(mesh, NODE_OFFICE, PYTHON_NCB)  # every message acked; nothing left for anyone
    assert await mesh.scalar(PYTHON_NCB, sa.select(sa.func.count()).select_from(tables.quarantine)) == 0
    assert '"event":"received"' in log


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_the_server_holds_the_node_office_to_its_own_credentials(
    make_mesh: MeshFactory, nats_server: NatsServer, tmp_path: Path
) -> None:
    """With another office's NKey (ncb.de's) the client's own inbox and subject are refused by the
    server: one clear error naming the refusal, exit 1, nothing published as ncb.ca."""
    node = require_node()
    mesh = make_mesh()
    await mesh.start("gs")
    config = client_config(mesh, nats_server, tmp_path / "ncb-client.json")
    wrong = json.loads(config.read_text()) | {"nkey_seed_file": str(mesh.settings("ncb.de").nkey_seed("ncb.de"))}
    config.write_text(json.dumps(wrong | {"timeout_s": 10}))
    proc = await run_client(node, config, tmp_path / "ncb-client.stderr")
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 1, out
    summary = json.loads(out.decode().splitlines()[-1])
    assert summary["ok"] is False and summary["sent"] is None
    assert "permissions violation" in summary["error"].lower(), summary["error"]


def test_the_node_sealer_reproduces_the_contract_examples_byte_for_byte() -> None:
    """interop/node/test/seal.test.js: sealing an example's header and body with its public example
    key gives exactly the bytes the Python sealer published, and the Node verifier accepts them."""
    node = require_node()
    result = subprocess.run(
        [node, "--test", "test/seal.test.js"], cwd=NODE_DIR, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_a_bad_configuration_is_one_clear_error(tmp_path: Path) -> None:
    node = require_node()
    config = tmp_path / "ncb-client.json"
    config.write_text(json.dumps({"office_id": NODE_OFFICE, "peer_id": PYTHON_NCB, "nats_url": "tls://127.0.0.1:1"}))
    proc = await run_client(node, config, tmp_path / "ncb-client.stderr")
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 2
    assert json.loads(out.decode().splitlines()[-1]) == {
        "ok": False,
        "error": "missing nkey_seed_file (--nkey)",
        "code": "config",
    }


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_an_expectation_not_met_in_time_is_one_timeout_error(
    make_mesh: MeshFactory, nats_server: NatsServer, tmp_path: Path
) -> None:
    """Nobody acknowledges and nobody replies: the client ends at its deadline, saying what it still waited for."""
    node = require_node()
    mesh = make_mesh()
    await mesh.start("gs", PYTHON_NCB)
    config = client_config(mesh, nats_server, tmp_path / "ncb-client.json")
    config.write_text(json.dumps(json.loads(config.read_text()) | {"timeout_s": 4}))
    proc = await run_client(node, config, tmp_path / "ncb-client.stderr")
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 1, out
    summary = json.loads(out.decode().splitlines()[-1])
    assert summary["ok"] is False and summary["code"] == "timeout"
    error = summary["error"]
    assert error.startswith("timed out after 4s waiting for ") and error.endswith(
        f"a verified acknowledged receipt from {PYTHON_NCB}, 1 more message(s) addressed to {NODE_OFFICE}"
    ), error
    assert summary["sent"]["to"] == PYTHON_NCB  # what was done before the deadline is still reported
    assert "acknowledged" not in [r["receipt_type"] for r in summary["receipts"]]
