"""The CCC's own migrations create exactly the tables services/ccc_router/tables.py uses, and only at the CCC."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.errors import ConfigError
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


def as_before_the_move(sync_conn: sa.Connection) -> None:
    """What every office's start-up ran while ccc_0002 was among the mesh's migrations."""
    cfg = alembic_config(sync_conn, CCC_MIGRATIONS)
    command.upgrade(cfg, "ccc_0002")
    for head in ScriptDirectory.from_config(alembic_config()).get_heads():
        command.upgrade(cfg, head)


def _versions(sync_conn: sa.Connection) -> set[str]:
    return set(sync_conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


def _settings(office_id: str, backend: Backend, tmp_path: Path) -> OfficeSettings:
    return OfficeSettings(office_id=office_id, database_url=backend.database_url,
                          db_schema_prefix=backend.schema_prefix, data_dir=tmp_path, database_pool_size=2)  # fmt: skip


async def test_an_office_that_ran_ccc_0002_among_the_mesh_migrations_still_starts(
    backend: Backend, tmp_path: Path
) -> None:
    """Before the move every office ran ccc_0002; such a database forgets it and its tables stay, unused."""
    settings = _settings("ncb.es", backend, tmp_path)
    engine = make_engine(settings)
    try:
        await ensure_schema(engine, schema_for("ncb.es", settings.db_schema_prefix))

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


async def test_the_ccc_database_built_before_the_move_upgrades_and_keeps_its_cases(
    backend: Backend, tmp_path: Path
) -> None:
    """The CCC's own database ran ccc_0002 among the mesh's migrations: it keeps it and its cases, and
    gets ccc_0003 (tokens table dropped), ccc_0004 (token cut-offs) and ccc_0005 (presence, links) from the CCC's folder."""
    settings = _settings("ccc", backend, tmp_path)
    engine = make_engine(settings)
    at = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    case = {
        "case_id": "019c9f5e-2a00-7000-8000-0000000000c1", "source": "api", "kind": "free-text", "title": "kept",
        "text": "opened before the move", "involved": [], "priority": "urgent", "language": "en",
        "language_decision": {}, "queue_language": "en", "translation_needed": False, "status": "dispatched",
        "desk": "desk.lyon", "escalation_level": 0, "policy": {}, "dispatch": {}, "opened_at": at,
        "dispatched_at": at, "updated_at": at, "version": 1,
    }  # fmt: skip
    try:
        await ensure_schema(engine, schema_for("ccc", settings.db_schema_prefix))
        async with engine.begin() as conn:
            await conn.run_sync(as_before_the_move)
            await conn.execute(t.cases.insert().values(**case))
            assert "ccc_operator_tokens" in await conn.run_sync(_ccc_tables)

        with pytest.raises(ConfigError, match="ccc_0002"):  # a tool without the CCC's folder forgets nothing
            await migrate(engine, "ccc", settings.db_schema_prefix)
        async with engine.connect() as conn:
            assert "ccc_0002" in await conn.run_sync(_versions)

        await migrate(engine, "ccc", settings.db_schema_prefix, CCC_MIGRATIONS)  # as the CCC starts now
        async with engine.connect() as conn:
            versions = await conn.run_sync(_versions)
            assert "ccc_0005" in versions and "ccc_0002" not in versions, versions  # ccc_0003, ccc_0004 ran on the way
            found = await conn.run_sync(_ccc_tables)
            assert "ccc_operator_tokens" not in found and "ccc_token_cutoffs" in found
            assert found == {table.name for table in t.metadata.sorted_tables}
            titles = (await conn.execute(sa.select(t.cases.c.title))).scalars().all()
            assert titles == ["kept"]
        await migrate(engine, "ccc", settings.db_schema_prefix, CCC_MIGRATIONS)  # and again, unchanged
    finally:
        await engine.dispose()
