"""The CCC's own migrations create exactly the tables services/ccc_router/tables.py uses, and only at the CCC."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import make_engine
from interpol_mesh.storage.engine import ensure_schema, schema_for
from interpol_mesh.storage.migrate import alembic_config, migrate
from interpol_mesh.testing.harness import Backend
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.role import MIGRATIONS as CCC_MIGRATIONS


def _columns(sync_conn: sa.Connection) -> dict[str, dict[str, tuple[bool, str]]]:
    inspector = sa.inspect(sync_conn)
    out: dict[str, dict[str, tuple[bool, str]]] = {}
    for table in t.metadata.sorted_tables:
        cols: list[Any] = inspector.get_columns(table.name)
        out[table.name] = {c["name"]: (bool(c["nullable"]), type(c["type"]).__name__) for c in cols}
    return out


async def test_migration_matches_the_table_definitions(make_mesh: MeshFactory) -> None:
    mesh = make_mesh(clock=FakeClock())
    await mesh.start("ccc")
    async with mesh.ctx("ccc").engine.connect() as conn:
        found = await conn.run_sync(_columns)
        dialect = conn.dialect
    for table in t.metadata.sorted_tables:
        expected = {c.name: c.nullable for c in table.columns}
        assert {name: nullable for name, (nullable, _) in found[table.name].items()} == expected, table.name
        for column in table.columns:
            declared = column.type.dialect_impl(dialect)
            assert found[table.name][column.name][1] != "NullType", f"{table.name}.{column.name} ({declared})"


def _ccc_tables(sync_conn: sa.Connection) -> set[str]:
    return {name for name in sa.inspect(sync_conn).get_table_names() if name.startswith("ccc_")}


async def test_only_the_ccc_creates_ccc_tables(make_mesh: MeshFactory) -> None:
    mesh = make_mesh(clock=FakeClock())
    await mesh.start("ccc", "ncb.fr")
    async with mesh.ctx("ccc").engine.connect() as conn:
        assert await conn.run_sync(_ccc_tables) == {table.name for table in t.metadata.sorted_tables}
    async with mesh.ctx("ncb.fr").engine.connect() as conn:
        assert await conn.run_sync(_ccc_tables) == set(), "an NCB has no CCC tables"


def _versions(sync_conn: sa.Connection) -> set[str]:
    return set(sync_conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


async def test_an_office_that_ran_ccc_0002_among_the_mesh_migrations_still_starts(
    backend: Backend, tmp_path: Path
) -> None:
    """Before the move every office ran ccc_0002; such a database forgets it and its tables stay, unused."""
    settings = OfficeSettings(office_id="ncb.es", database_url=backend.database_url,
                              db_schema_prefix=backend.schema_prefix, data_dir=tmp_path, database_pool_size=2)  # fmt: skip
    engine = make_engine(settings)
    try:
        await ensure_schema(engine, schema_for("ncb.es", settings.db_schema_prefix))

        def as_before_the_move(sync_conn: sa.Connection) -> None:
            cfg = alembic_config(sync_conn, CCC_MIGRATIONS)
            command.upgrade(cfg, "ccc_0002")
            for head in ScriptDirectory.from_config(alembic_config()).get_heads():
                command.upgrade(cfg, head)

        async with engine.begin() as conn:
            await conn.run_sync(as_before_the_move)
            assert "ccc_0002" in await conn.run_sync(_versions)
        await migrate(engine, "ncb.es", settings.db_schema_prefix)  # as a non-CCC office starts now
        async with engine.connect() as conn:
            versions = await conn.run_sync(_versions)
            assert "ccc_0002" not in versions and "audit_0002" in versions
            assert "ccc_cases" in await conn.run_sync(_ccc_tables), "left in place: empty and harmless"
        await migrate(engine, "ncb.es", settings.db_schema_prefix)  # and again, unchanged
    finally:
        await engine.dispose()
