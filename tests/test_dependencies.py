"""Bad settings end in one clear line; outages at run time show on /readyz (503, or degraded) and recover."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from conftest import MeshFactory
from envelopes import header, message_body, sealed, signer_of
from interpol_mesh.bus import subjects
from interpol_mesh.bus.credentials import ensure_nkey
from interpol_mesh.natsd import NatsServer, free_port, free_port_range
from interpol_mesh.provision import Deployment
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import Backend, TestMesh, wait_until
from interpol_mesh.testing.tcp_proxy import TcpProxy
from interpol_offices.roles import role_for


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "interpol_offices.cli", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2, result
    # JSON lines are the office's structured log; the operator-facing error is the one plain line.
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("{")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("interpol-mesh: error: ") and expected in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def test_unknown_office_id(tmp_path: Path) -> None:
    assert_one_clear_line(
        run_cli("serve", f"ncb.zz={free_port()}", DATA_DIR=str(tmp_path)), "unknown office id 'ncb.zz'"
    )


def test_malformed_directory(tmp_path: Path) -> None:
    (tmp_path / "offices.csv").write_text(
        "id,kind,name,city,country,timezone,language\ngs,gs,GS,Lyon,FR,Europe/Paris,xx\n"
    )
    result = run_cli("directory", "validate", DIRECTORY_DIR=str(tmp_path))
    assert_one_clear_line(result, "offices.csv:2: language")


def test_unreachable_nats(tmp_path: Path) -> None:
    assert run_cli("keys", "init", DATA_DIR=str(tmp_path)).returncode == 0
    result = run_cli(
        "serve", f"ncb.fr={free_port()}", DATA_DIR=str(tmp_path), NATS_URL=f"nats://127.0.0.1:{free_port()}"
    )
    assert_one_clear_line(result, "cannot reach NATS at nats://127.0.0.1:")


def test_unreachable_database(mesh_deployment: Deployment, nats_server: NatsServer) -> None:
    url = f"postgresql+asyncpg://postgres:secret@127.0.0.1:{free_port()}/nowhere"
    data = str(mesh_deployment.data_dir)
    result = run_cli("serve", f"ncb.fr={free_port()}", DATA_DIR=data, NATS_URL=nats_server.url, DATABASE_URL=url)
    assert_one_clear_line(result, "cannot use database postgresql+asyncpg://postgres:***@127.0.0.1:")
    assert "secret" not in result.stderr


def test_bad_database_url_and_up_with_unreachable_nats(tmp_path: Path) -> None:
    result = run_cli("serve", f"ncb.fr={free_port()}", DATA_DIR=str(tmp_path), DATABASE_URL="mysql://x@y/z")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    base = free_port_range(40)
    result = run_cli("up", "--base-port", str(base), DATA_DIR=str(tmp_path), NATS_URL=f"nats://127.0.0.1:{free_port()}")
    assert_one_clear_line(result, "cannot reach NATS")


async def test_bus_outage_is_degraded_not_unready_and_recovers(make_mesh: MeshFactory, nats_server: NatsServer) -> None:
    """A cut link must not take the office out of its Service: it keeps accepting sends (200 degraded)."""
    mesh = make_mesh()
    await mesh.start("ncb.fr", "ncb.es")
    client = mesh.client("ncb.fr")
    assert (await client.get("/readyz")).status_code == 200
    nats_server.stop()

    async def degraded() -> dict[str, object] | None:
        response = await client.get("/readyz")
        body = response.json()
        return body if response.status_code == 200 and body["status"] == "degraded" else None

    body = await wait_until(degraded, what="/readyz degraded while NATS is down")
    assert any("bus disconnected" in r for r in body["degraded"])  # type: ignore[union-attr]
    accepted = await client.post(
        "/v1/messages", json={"recipients": ["ncb.es"], "body": {"title": "t", "text": "sent during the outage"}}
    )
    assert accepted.status_code == 202, "the API keeps accepting: the outbox holds the message"
    nats_server.start()

    async def ready() -> bool:
        return (await client.get("/readyz")).json()["status"] == "ready"

    await wait_until(ready, timeout=30, what="/readyz ready after NATS returned")
    mid = accepted.json()["message_id"]

    async def arrived() -> bool:
        return (
            await mesh.scalar("ncb.es", sa.select(tables.inbox.c.message_id).where(tables.inbox.c.message_id == mid))
            is not None
        )

    await wait_until(arrived, timeout=30, what="the message sent during the outage")


async def test_database_outage_holds_messages_and_recovers(
    tmp_path: Path, nats_server: NatsServer, postgres_backend: Backend
) -> None:
    assert postgres_backend.database_url is not None
    real = make_url(postgres_backend.database_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    await proxy.start()
    via_proxy = Backend(
        "postgresql",
        real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
        postgres_backend.schema_prefix,
    )
    mesh = TestMesh(root=tmp_path / "mesh", nats_url=nats_server.url, backend=via_proxy, role_for=role_for)
    # (the nats_server fixture provisioned tmp_path / "mesh": same keys, credentials and CA)
    try:
        await mesh.start("ncb.es")
        es = mesh.client("ncb.es")
        await proxy.cut()

        async def not_ready() -> dict[str, object] | None:
            response = await es.get("/readyz")
            return response.json() if response.status_code == 503 else None

        body = await wait_until(not_ready, what="/readyz 503 while the database is away")
        assert any("cannot use database" in r for r in body["reasons"])  # type: ignore[union-attr]
        # France's signed message reaches Spain's consumer while Spain's database is away:
        # it must be held (not acked, not dropped) and committed once the database returns.
        h = header("ncb.fr", ["ncb.es"])
        nc = await mesh.connect_as("ncb.fr")
        try:
            await nc.jetstream().publish(
                subjects.direct("ncb.fr", "ncb.es"), sealed(h, message_body(), signer_of(mesh.root / "keys", "ncb.fr"))
            )
        finally:
            await nc.close()
        consumer = mesh.ctx("ncb.es").consumer
        assert consumer is not None

        async def holding() -> bool:
            return mesh.ctx("ncb.es").database_error is not None

        await wait_until(holding, what="the consumer to hold the message while the database is away")
        await proxy.start()

        async def ready() -> bool:
            return (await es.get("/readyz")).status_code == 200

        await wait_until(ready, timeout=30, what="/readyz 200 after the database returned")
        mid = h.message_id

        async def arrived() -> bool:
            return (
                await mesh.scalar(
                    "ncb.es", sa.select(tables.inbox.c.message_id).where(tables.inbox.c.message_id == mid)
                )
                is not None
            )

        await wait_until(arrived, timeout=30, what="the message held during the outage")
        assert await mesh.scalar("ncb.es", sa.select(sa.func.count()).select_from(tables.quarantine)) == 0
    finally:
        await mesh.close()
        await proxy.cut()


def test_missing_or_wrong_nats_credential_is_one_clear_line(
    mesh_deployment: Deployment, nats_server: NatsServer
) -> None:
    data = mesh_deployment.data_dir
    seed = data / "keys" / "ncb.fr.nk"
    seed.rename(data / "keys" / "ncb.fr.nk.away")
    result = run_cli("serve", f"ncb.fr={free_port()}", DATA_DIR=str(data), NATS_URL=nats_server.url)
    assert_one_clear_line(result, "NATS credential missing")

    ensure_nkey(data / "keys", "ncb.fr")  # a fresh NKey the server does not know
    result = run_cli("serve", f"ncb.fr={free_port()}", DATA_DIR=str(data), NATS_URL=nats_server.url)
    assert_one_clear_line(result, "refused the credentials (ncb.fr.nk): authorization violation")

    shutil.copy(data / "keys" / "ncb.de.nk", seed)  # another office's credential
    result = run_cli("serve", f"ncb.fr={free_port()}", DATA_DIR=str(data), NATS_URL=nats_server.url)
    assert_one_clear_line(result, "is the NKey file another office's?")
