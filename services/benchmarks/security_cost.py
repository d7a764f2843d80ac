"""What security costs: the same signed traffic through an open nats-server and a secured one.

`python -m interpol_offices.benchmarks.security_cost [--messages 3000] [--database-url URL]`

Both runs use the same machine, code path and database: NCB Argentina signs and stores N
messages (`compose` + `uow.send`, outbox relay to JetStream) to NCB Spain, whose consumer verifies and
commits them. The only difference is the server: plain TCP without users, or TLS with one NKey
user per office and subject permissions (the default of `interpol-mesh up`).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from interpol_mesh.local_mesh import Backend, LocalMesh
from interpol_mesh.messages import FreeTextMessage
from interpol_mesh.messaging import compose
from interpol_mesh.natsd import NatsServer, write_server_config
from interpol_mesh.provision import write_nats_config
from interpol_mesh.storage import tables
from interpol_offices.roles import role_for

TEXT = "x" * 900  # about 1 KiB envelopes


async def run_once(secure: bool, messages: int, database_url: str | None) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        backend = Backend("postgresql" if database_url else "sqlite", database_url, f"b{uuid.uuid4().hex[:8]}_")
        mesh = LocalMesh(root=root / "mesh", nats_url="", backend=backend, role_for=role_for)
        if secure:
            from interpol_mesh.provision import Deployment

            deployment = Deployment(data_dir=root / "mesh", keys_created=0, keys_kept=0, tls=_tls(root / "mesh"))
            config = write_nats_config(mesh.directory, deployment)
        else:
            config = write_server_config(root / "conf")
        server = NatsServer(store_dir=root / "nats", config_path=config, tls=secure)
        server.start()
        mesh.nats_url = server.url
        try:
            await mesh.start("ncb.ar", "ncb.es")
            ar = mesh.ctx("ncb.ar")
            started = time.perf_counter()
            for first in range(0, messages, 100):
                outs = [
                    compose(ar, kind="message", recipients=["ncb.es"], body=FreeTextMessage(title=f"m{i}", text=TEXT))
                    for i in range(first, min(first + 100, messages))
                ]
                async with ar.transaction() as uow:
                    await uow.send(*outs)
            inbox = tables.inbox
            while True:
                n = await mesh.scalar(
                    "ncb.es", sa.select(sa.func.count()).select_from(inbox).where(inbox.c.kind == "message")
                )
                if n >= messages:
                    break
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - started
        finally:
            await mesh.close()
            server.stop()
            await backend.drop_schemas()
        return messages / elapsed


def _tls(data_dir: Path):  # type: ignore[no-untyped-def]
    from interpol_mesh.bus.tls import ensure_local_ca

    return ensure_local_ca(data_dir / "tls")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--database-url", default=None, help="postgresql+asyncpg://... (default: SQLite files)")
    parser.add_argument("--rounds", type=int, default=2, help="alternate open/secure this many times; best of each")
    args = parser.parse_args()
    open_rates, secure_rates = [], []
    for _ in range(args.rounds):
        open_rates.append(await run_once(False, args.messages, args.database_url))
        secure_rates.append(await run_once(True, args.messages, args.database_url))
    best_open, best_secure = max(open_rates), max(secure_rates)
    print(
        f"messages: {args.messages} per run, database: {'PostgreSQL' if args.database_url else 'SQLite'}, rounds: {args.rounds}"
    )
    print(
        f"open server (no TLS, no users):          {best_open:8.0f} msg/s   runs: {', '.join(f'{r:.0f}' for r in open_rates)}"
    )
    print(
        f"secured (TLS + NKey users + permissions): {best_secure:8.0f} msg/s   runs: {', '.join(f'{r:.0f}' for r in secure_rates)}"
    )
    print(f"security cost ratio secure/open: {best_secure / best_open:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
