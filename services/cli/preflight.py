"""Check NATS and the database once, before starting offices, so a bad URL is one clear line."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from interpol_mesh.bus import BusStatus, StreamPlan, connect, provision_topology
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.directory import GS_ID, Directory
from interpol_mesh.errors import DependencyUnavailable
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import database_unavailable, database_url_for, make_engine


async def _check(settings: OfficeSettings, directory: Directory) -> None:
    nc = await connect(
        settings.nats_url, "interpol-mesh provisioning", BusStatus(),
        nkey_seed=settings.nkey_seed(ADMIN_USER), tls_ca=settings.tls_ca(),
    )  # fmt: skip
    try:
        plan = StreamPlan(directory, settings.bus_topology, settings.stream_replicas)
        await provision_topology(nc.jetstream(), plan)
    except Exception as exc:
        raise DependencyUnavailable(f"NATS at {settings.nats_url} has no usable JetStream: {exc}") from None
    finally:
        await nc.close()
    engine = make_engine(settings.model_copy(update={"office_id": GS_ID}))
    try:
        async with asyncio.timeout(10):
            async with engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        raise database_unavailable(database_url_for(settings), exc) from None
    finally:
        await engine.dispose()


def preflight(settings: OfficeSettings, directory: Directory) -> None:
    """Reach NATS as the admin, create streams and every office's consumer, then reach the database."""
    asyncio.run(_check(settings, directory))
