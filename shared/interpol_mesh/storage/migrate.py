"""Apply the Alembic migrations to an office's database at start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from interpol_mesh.storage.engine import ensure_schema, schema_for

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "heads")


async def migrate(engine: AsyncEngine, office_id: str, schema_prefix: str = "office_") -> None:
    await ensure_schema(engine, schema_for(office_id, schema_prefix))
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
