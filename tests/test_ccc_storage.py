"""The hand-written migration ccc_0002 creates exactly the tables services/ccc_router/tables.py uses."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_offices.ccc_router import tables as t


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
