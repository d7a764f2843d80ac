"""Probes of the trust boundaries across the supercluster: a national leaf node, raw cluster ports.

`start_leaf` runs an office's own leaf node (bus/leaf_node.py) dialling its region. Through a
leaf the hub never reports a refusal to the local client (the leaf itself allows everything
locally), so what crosses is judged by its effect in the hub: what reached a stream, what a
consumer delivered, which replies came back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from pathlib import Path

import nats
from nats.aio.client import Client

from interpol_mesh.bus.credentials import nkey_path, public_nkey
from interpol_mesh.bus.leaf_node import LeafNode, write_leaf_config
from interpol_mesh.bus.permissions import inbox_prefix
from interpol_mesh.bus.supercluster import TlsPaths
from interpol_mesh.bus.tls import client_context
from interpol_mesh.natsd import MAX_PAYLOAD_BYTES, NatsServer, free_port
from interpol_mesh.testing.regions import RegionalMesh


def start_leaf(mesh: RegionalMesh, office_id: str, root: Path) -> NatsServer:
    key_dir = mesh.deployment.key_dir
    leaf = LeafNode(office_id, mesh.region_of(office_id), "127.0.0.1", free_port(), public_nkey(key_dir, office_id))
    tls = mesh.deployment.tls
    config = write_leaf_config(
        root / "conf" / "leaf.conf",
        leaf,
        mesh.servers.layout,
        seed=nkey_path(key_dir, office_id).read_text().strip(),
        tls=TlsPaths(str(tls.cert), str(tls.key), str(tls.ca)),
        max_payload=MAX_PAYLOAD_BYTES,
    )
    server = NatsServer(
        store_dir=root / "store", port=leaf.client_port, config_path=config, log_path=root / "leaf.log",
        tls=True, jetstream=False,
    )  # fmt: skip
    server.start()
    return server


async def connect_local(mesh: RegionalMesh, leaf: NatsServer, office_id: str) -> Client:
    """A client of the national network on the leaf (the office's own local user)."""
    return await nats.connect(
        leaf.url,
        nkeys_seed=str(nkey_path(mesh.deployment.key_dir, office_id)),
        tls=client_context(mesh.deployment.tls.ca),
        tls_hostname="127.0.0.1",
        inbox_prefix=inbox_prefix(office_id),
        max_reconnect_attempts=0,
    )


async def unanswered(nc: Client, subject: str, payload: dict[str, object]) -> bool:
    """True when a JetStream API request gets no answer (no responders or a timeout)."""
    try:
        await nc.request(subject, json.dumps(payload).encode(), timeout=2)
    except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
        return True
    return False


async def _speak(host: str, port: int, context: ssl.SSLContext | None) -> bytes:
    """Connect (TLS first when `context`: routes and gateways start with the handshake), say
    CONNECT and PING as a peer would, and return what the server said until it closed."""
    said = b""
    with contextlib.suppress(OSError, ssl.SSLError, ConnectionError, TimeoutError):
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname="127.0.0.1" if context else None), 10
        )
        try:
            writer.write(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
            while chunk := await asyncio.wait_for(reader.read(4096), timeout=10):
                said += chunk
        finally:
            writer.close()
    return said


async def peer_probe(host: str, port: int, ca: Path, cert: Path, key: Path) -> dict[str, bytes]:
    """What a route or gateway port says to a plain TCP client, to a TLS client without a
    certificate, and (the control) to one with a CA-signed certificate."""
    bare = ssl.create_default_context(cafile=str(ca))
    signed = ssl.create_default_context(cafile=str(ca))
    signed.load_cert_chain(str(cert), str(key))
    return {
        "plain": await _speak(host, port, None),
        "no certificate": await _speak(host, port, bare),
        "CA-signed": await _speak(host, port, signed),
    }
