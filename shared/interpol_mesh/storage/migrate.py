"""Apply the Alembic migrations to an office's database at start-up: the mesh's, then its role's own.

Every office gets the mesh's revisions (`migrations/versions/`, one branch per feature off `0001`).
A role with tables of its own (the CCC's cases and roster) keeps their revisions next to its code
and names that folder in `OfficeRole.migrations`; they branch off `0001` too, and only offices of
that role run them, so 208 offices do not create tables only the CCC uses.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from interpol_mesh.errors import ConfigError
from interpol_mesh.storage.engine import ensure_schema, schema_for

MIGRATIONS = Path(__file__).with_name("migrations")
# Revisions that once were the mesh's and moved to a role's own folder, with the office kind that
# owns them now. A database of another kind that ran one before the move forgets it (its tables
# stay, empty and unused): otherwise Alembic would stop at a revision it can no longer find. The
# owner's database never forgets it, whatever folders the caller gave: a tool that migrates the
# CCC's database without the CCC's folder is refused, instead of dropping the version row that the
# next start needs (it would try to create ccc_cases again).
MOVED_TO_A_ROLE = {"ccc_0002": "ccc"}


def _kind(office_id: str) -> str:
    return office_id.partition(".")[0]  # "ccc", "gs", "ncb.fr" -> "ncb"


def alembic_config(connection: Connection | None = None, role_migrations: Path | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    locations = [MIGRATIONS / "versions", *([role_migrations] if role_migrations is not None else [])]
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    cfg.attributes["connection"] = connection
    return cfg


def _forget_moved_revisions(connection: Connection, cfg: Config, office_id: str) -> None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return
    known = {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}
    version = sa.table("alembic_version", sa.column("version_num", sa.String()))
    applied = set(connection.execute(sa.select(version.c.version_num)).scalars())
    gone = (applied & MOVED_TO_A_ROLE.keys()) - known
    own = sorted(rev for rev in gone if MOVED_TO_A_ROLE[rev] == _kind(office_id))
    if own:
        raise ConfigError(
            f"{office_id}'s database ran {', '.join(own)}, now in its role's own migrations: "
            "migrate it with the role's folder (OfficeRole.migrations)"
        )
    if gone:
        connection.execute(version.delete().where(version.c.version_num.in_(sorted(gone))))


def _upgrade(connection: Connection, office_id: str, role_migrations: Path | None) -> None:
    cfg = alembic_config(connection, role_migrations)
    _forget_moved_revisions(connection, cfg, office_id)
    command.upgrade(cfg, "heads")


async def migrate(
    engine: AsyncEngine, office_id: str, schema_prefix: str = "office_", role_migrations: Path | None = None
) -> None:
    await ensure_schema(engine, schema_for(office_id, schema_prefix))
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, office_id, role_migrations)
