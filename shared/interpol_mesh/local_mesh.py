"""Several offices in this process on one NATS server: real keys, real databases, real signatures.

Each office is started with the production `start_office`, as `interpol-mesh serve` starts it,
without an HTTP server: the caller works on the offices' contexts. The benchmarks run their
offices this way (they time the library's own path, not the HTTP edge), and the test fixtures
build on it (`interpol_mesh.testing.harness.TestMesh` adds an HTTP client per office).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from nats.aio.client import Client
from sqlalchemy.ext.asyncio import create_async_engine

from interpol_mesh.bus import BusStatus, StreamPlan, connect, provision_topology
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.bus.permissions import inbox_prefix
from interpol_mesh.clock import Clock
from interpol_mesh.directory import Directory, Office, load_directory
from interpol_mesh.messaging import OfficeContext, OfficeRole, start_office, stop_office
from interpol_mesh.provision import provision_deployment
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import drop_schemas

# Keys valid from 2020, so that offices on a clock set in the past can still sign.
KEY_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
RoleFor = Callable[[Office], OfficeRole]


@dataclass
class Backend:
    """Where the offices keep their data: SQLite files, or one schema each in PostgreSQL."""

    name: str
    database_url: str | None
    schema_prefix: str = "office_"

    async def drop_schemas(self) -> None:
        """Drop every schema under the prefix (a PostgreSQL backend is shared between runs)."""
        if self.database_url is None:
            return
        engine = create_async_engine(self.database_url)
        try:
            await drop_schemas(engine, self.schema_prefix)
        finally:
            await engine.dispose()


@dataclass
class LocalMesh:
    """Offices of `directory` started on demand; keys and NATS credentials provisioned under `root`."""

    root: Path
    nats_url: str
    backend: Backend
    role_for: RoleFor
    clock: Clock | None = None
    directory: Directory = field(default_factory=load_directory)
    contexts: dict[str, OfficeContext] = field(default_factory=dict)
    provisioned: bool = False  # streams and consumers exist (set it when another process made them)

    def __post_init__(self) -> None:
        provision_deployment(self.directory, self.root, KEY_EPOCH)  # keeps what exists

    def settings(self, office_id: str) -> OfficeSettings:
        return OfficeSettings(
            office_id=office_id,
            nats_url=self.nats_url,
            database_url=self.backend.database_url,
            db_schema_prefix=self.backend.schema_prefix,
            data_dir=self.root,
            database_pool_size=2,
        )

    async def connect_as(self, user: str) -> Client:
        """A raw NATS connection with `user`'s credentials (an office id or ADMIN_USER)."""
        settings = self.settings("gs")
        prefix = inbox_prefix(user) if user in self.directory.offices else None
        return await connect(
            self.nats_url, f"local {user}", BusStatus(),
            nkey_seed=settings.nkey_seed(user), tls_ca=settings.tls_ca(), inbox_prefix=prefix,
        )  # fmt: skip

    async def provision(self) -> None:
        """Streams and consumers are the admin's to create, as `interpol-mesh up` does."""
        nc = await self.connect_as(ADMIN_USER)
        try:
            await provision_topology(nc.jetstream(), StreamPlan(self.directory))
        finally:
            await nc.close()
        self.provisioned = True

    async def start(self, *office_ids: str) -> None:
        if not self.provisioned:
            await self.provision()
        for office_id in office_ids:
            role = self.role_for(self.directory.get(office_id))
            self.contexts[office_id] = await start_office(
                self.settings(office_id), role, clock=self.clock, directory=self.directory
            )

    def ctx(self, office_id: str) -> OfficeContext:
        return self.contexts[office_id]

    async def stop(self, office_id: str) -> None:
        ctx = self.contexts.pop(office_id, None)
        if ctx is not None:
            await stop_office(ctx)

    async def close(self) -> None:
        for office_id in list(self.contexts):
            await self.stop(office_id)

    async def scalar(self, office_id: str, query: sa.Executable) -> Any:
        async with self.ctx(office_id).engine.connect() as conn:
            return (await conn.execute(query)).scalar()

    async def rows(self, office_id: str, query: sa.Executable) -> list[Any]:
        async with self.ctx(office_id).engine.connect() as conn:
            return list((await conn.execute(query)).all())
