"""The migrations build exactly the tables the code declares (`storage/tables.py`), on both backends.

Every feature adds its own revision off `0001` and a column in `tables.py` by hand: a column added to
one and not the other would only show on a deployment's first upgrade. Alembic's own comparison of
the migrated database with the metadata catches it here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import make_engine, migrate, tables
from interpol_mesh.testing.harness import Backend

OFFICE = "ncb.fr"


@pytest.fixture
async def engine(backend: Backend, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    settings = OfficeSettings(
        office_id=OFFICE, database_url=backend.database_url, db_schema_prefix=backend.schema_prefix,
        data_dir=tmp_path, database_pool_size=2,
    )  # fmt: skip
    engine = make_engine(settings)
    await migrate(engine, OFFICE, settings.db_schema_prefix)
    yield engine
    await engine.dispose()


def _differences(sync_conn: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return [d for d in compare_metadata(context, tables.metadata) if "alembic_version" not in repr(d)]


async def test_migrated_database_matches_the_declared_tables(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


async def test_police_migrations_build_exactly_the_police_tables(backend: Backend, tmp_path: Path) -> None:
    """GS and NCB databases run the police revisions too (the national copy is the same tables)."""
    from interpol_offices.police_data import MIGRATIONS
    from interpol_offices.police_data import tables as police

    settings = OfficeSettings(
        office_id=OFFICE, database_url=backend.database_url, db_schema_prefix=backend.schema_prefix,
        data_dir=tmp_path, database_pool_size=2,
    )  # fmt: skip
    engine = make_engine(settings)
    try:
        await migrate(engine, OFFICE, settings.db_schema_prefix, MIGRATIONS)
        combined = sa.MetaData()
        for table in [*tables.metadata.tables.values(), *police.metadata.tables.values()]:
            table.to_metadata(combined)

        def differences(sync_conn: sa.Connection) -> list[Any]:
            context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
            return [d for d in compare_metadata(context, combined) if "alembic_version" not in repr(d)]

        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
    finally:
        await engine.dispose()
