"""Check NATS and the database once, before starting offices, so a bad URL is one clear line."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from interpol_mesh.directory import GS_ID, Directory
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import database_unavailable, database_url_for, make_engine
from interpol_offices.cli.provision_bus import provision_bus


async def _check(settings: OfficeSettings, directory: Directory) -> None:
    await provision_bus(settings, directory)
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
