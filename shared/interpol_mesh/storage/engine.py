"""One async engine per office: its own SQLite file, or its own schema in PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiosqlite
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from interpol_mesh.directory import office_name
from interpol_mesh.errors import ConfigError
from interpol_mesh.settings import OfficeSettings


def schema_for(office_id: str, prefix: str = "office_") -> str:
    """PostgreSQL schema name of an office: `ncb.fr` -> `office_ncb_fr`, `lo.new-york` -> `office_lo_new_york`."""
    return prefix + office_name(office_id, "identifier")


def database_url_for(settings: OfficeSettings) -> str:
    if settings.database_url:
        return settings.database_url
    path = (settings.data_dir / "db" / f"{office_name(settings.office_id, 'file')}.sqlite").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{path}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the consumer writes; NORMAL is durable across process
    # crashes (what kill -9 tests), fsyncing at checkpoints rather than every commit.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class _InlineSQLite(aiosqlite.Connection):
    """aiosqlite's API with each call run in the event loop's own thread.

    aiosqlite hands every call (cursor, execute, fetch, close: four per statement) to a worker
    thread and back. With two dozen offices packed in one process, those hand-offs fought over
    the GIL and cost more than the statements: a full-membership broadcast spent most of its
    time there. The calls themselves take microseconds: SQLite in WAL mode never blocks a reader,
    and writers of one office queue on an asyncio lock (`storage.writing`), not in SQLite.
    """

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def _inline_sqlite(path: str) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    async def connect() -> aiosqlite.Connection:
        # Opened by aiosqlite's thread, then used from the loop's thread only.
        conn = _InlineSQLite(partial(sqlite3.connect, path, timeout=30, check_same_thread=False), 64)
        conn._thread.daemon = True
        return await conn

    return connect


def make_engine(settings: OfficeSettings, url: str | None = None) -> AsyncEngine:
    """Build the office's engine; a malformed URL is a ConfigError naming the variable."""
    raw = url or database_url_for(settings)
    try:
        parsed = make_url(raw)
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL is not a valid SQLAlchemy URL: {raw!r}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername != "sqlite+aiosqlite":
            raise ConfigError("DATABASE_URL for SQLite must use the async driver: sqlite+aiosqlite:///path")
        engine = create_async_engine(parsed, async_creator=_inline_sqlite(parsed.database or ":memory:"))
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.drivername != "postgresql+asyncpg":
            raise ConfigError("DATABASE_URL for PostgreSQL must use the async driver: postgresql+asyncpg://...")
        schema = schema_for(settings.office_id, settings.db_schema_prefix)
        return create_async_engine(
            parsed,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size,
            pool_pre_ping=True,
            connect_args={"server_settings": {"search_path": schema}, "timeout": 5},
        )
    raise ConfigError(f"DATABASE_URL backend {backend!r} is not supported (use sqlite+aiosqlite or postgresql+asyncpg)")


def redacted(url: str) -> str:
    """The URL with any password hidden, for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid url>"


async def ensure_schema(engine: AsyncEngine, schema: str) -> None:
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


async def drop_schemas(engine: AsyncEngine, prefix: str) -> None:
    """Drop every PostgreSQL schema named `prefix…`: the offices of one throwaway mesh (tests, benches,
    the load test) share a database with other runs, so they are removed by their common prefix."""
    async with engine.begin() as conn:
        rows = await conn.execute(
            sa.text("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :p"),
            {"p": prefix.replace("_", r"\_") + "%"},
        )
        for (schema,) in rows.all():
            await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
