"""An in-process mesh for integration tests: real NATS, real databases, real signatures.

Each office is started with the production `start_office` and served through its real
FastAPI app (httpx ASGI transport), so tests cross the same code paths as the CLI.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from nats.aio.client import Client

from interpol_mesh.app import create_app
from interpol_mesh.auth.tokens import issue_token
from interpol_mesh.bus import BusStatus, connect, provision_topology
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.bus.permissions import inbox_prefix
from interpol_mesh.clock import Clock
from interpol_mesh.directory import Directory, Office, load_directory
from interpol_mesh.messaging import OfficeContext, OfficeRole, start_office, stop_office
from interpol_mesh.provision import provision_deployment
from interpol_mesh.settings import OfficeSettings

KEY_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
RoleFor = Callable[[Office], OfficeRole]


@dataclass
class Backend:
    """Where offices keep their data in a test: SQLite files, or schemas in PostgreSQL."""

    name: str
    database_url: str | None
    schema_prefix: str = "office_"

    async def drop_schemas(self) -> None:
        if self.database_url is None:
            return
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(self.database_url)
        try:
            async with engine.begin() as conn:
                rows = await conn.execute(
                    sa.text("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :p"),
                    {"p": self.schema_prefix + "%"},
                )
                for (schema,) in rows:
                    await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        finally:
            await engine.dispose()


async def wait_until(predicate: Callable[[], Awaitable[Any]], *, timeout: float = 15.0, what: str = "condition") -> Any:
    """Await a condition with a deadline (the event is a database state, so it is checked often)."""
    end = time.monotonic() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


STAFF_ROLES = ["officer", "reviewer", "admin"]


class StaffToken(httpx.Auth):
    """Signs a fresh staff token for each request (tests move clocks past any fixed token's life).

    A request that already carries an Authorization header keeps it.
    """

    def __init__(self, ctx: OfficeContext, roles: list[str] | None = None, subject: str = "test-officer") -> None:
        self.ctx = ctx
        self.roles = roles or STAFF_ROLES
        self.subject = subject

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        if "authorization" not in request.headers:
            token = issue_token(
                self.ctx.signer,
                subject=self.subject,
                audience=self.ctx.office.id,
                roles=self.roles,
                now=self.ctx.clock.now(),
            )
            request.headers["Authorization"] = f"Bearer {token}"
        yield request


@dataclass
class TestMesh:
    __test__ = False  # not a test class, despite the name
    root: Path
    nats_url: str
    backend: Backend
    role_for: RoleFor
    clock: Clock | None = None
    directory: Directory = field(default_factory=load_directory)
    contexts: dict[str, OfficeContext] = field(default_factory=dict)
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    provisioned: bool = False

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
            self.nats_url, f"test {user}", BusStatus(),
            nkey_seed=settings.nkey_seed(user), tls_ca=settings.tls_ca(), inbox_prefix=prefix,
        )  # fmt: skip

    async def provision(self) -> None:
        """Streams and consumers are the admin's to create, as `interpol-mesh up` does."""
        nc = await self.connect_as(ADMIN_USER)
        try:
            await provision_topology(nc.jetstream(), self.directory)
        finally:
            await nc.close()
        self.provisioned = True

    async def start(self, *office_ids: str) -> None:
        if not self.provisioned:
            await self.provision()
        for office_id in office_ids:
            settings = self.settings(office_id)
            role = self.role_for(self.directory.get(office_id))
            ctx = await start_office(settings, role, clock=self.clock, directory=self.directory)
            app = create_app(settings, role, ctx=ctx)
            app.state.ctx = ctx
            self.contexts[office_id] = ctx
            self.clients[office_id] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=f"http://{office_id}", auth=StaffToken(ctx)
            )

    def ctx(self, office_id: str) -> OfficeContext:
        return self.contexts[office_id]

    def client(self, office_id: str) -> httpx.AsyncClient:
        return self.clients[office_id]

    def raw_client(self, office_id: str) -> httpx.AsyncClient:
        """The office's app with no credentials at all (close it after use)."""
        app = self.clients[office_id]._transport.app  # type: ignore[attr-defined]
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{office_id}")

    async def stop(self, office_id: str) -> None:
        client = self.clients.pop(office_id, None)
        if client is not None:
            await client.aclose()
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
