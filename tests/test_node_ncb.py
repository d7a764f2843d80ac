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
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from barriers import caught_up
from conftest import MeshFactory
from interpol_mesh.bus import StreamPlan, subjects
from interpol_mesh.crypto.provisioning import TRUST_ANCHOR_FILE, key_file
from interpol_mesh.natsd import NatsServer
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until
from interpol_mesh.testing.plugin import not_run

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "interop" / "node"
NODE_OFFICE = "ncb.ca"  # an NCB of the directory, provisioned like every office; its system is the Node client
PYTHON_NCB = "ncb.fr"
CLIENT_TIMEOUT_S = 60


def require_node() -> str:
    """`node` and interop/node's npm packages (`make install`): under CI a failure, else a loud skip."""
    node = shutil.which("node")
    if node is None:
        not_run("Node.js national client did not run: `node` is not on PATH (install Node.js >= 20)", what="Node.js")
    if not (NODE_DIR / "node_modules" / "nats").is_dir():
        not_run(
            "Node.js national client did not run: interop/node/node_modules is missing (run `make install`)",
            what="npm install",
        )
    return node


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


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_node_ncb_sends_receives_and_proves_delivery_with_digests(
    make_mesh: MeshFactory, nats_server: NatsServer, tmp_path: Path
) -> None:
    node = require_node()
    mesh = make_mesh()
    await mesh.start("gs", PYTHON_NCB)  # the GS publishes the key directory the client verifies
    config = client_config(mesh, nats_server, tmp_path / "ncb-client.json")
    stderr_path = tmp_path / "ncb-client.stderr"
    with stderr_path.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            node, str(NODE_DIR / "ncb-client.js"), "--config", str(config),
            cwd=NODE_DIR, stdout=asyncio.subprocess.PIPE, stderr=stderr,
        )  # fmt: skip
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
    assert summary["ok"] is True and summary["error"] is None and summary["refused"] == [], summary

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
        assert r["key_id"].startswith(f"{PYTHON_NCB}/")

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
