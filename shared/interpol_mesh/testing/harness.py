"""An in-process mesh for integration tests: real NATS, real databases, real signatures.

Each office is started with the production `start_office` (`interpol_mesh.local_mesh`) and
served through its real FastAPI app (httpx ASGI transport), so tests cross the same code paths
as the CLI.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from interpol_mesh.app import create_app
from interpol_mesh.auth.tokens import issue_token
from interpol_mesh.local_mesh import KEY_EPOCH, Backend, LocalMesh
from interpol_mesh.messaging import OfficeContext

__all__ = ["KEY_EPOCH", "STAFF_ROLES", "Backend", "StaffToken", "TestMesh", "wait_until"]


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
class TestMesh(LocalMesh):
    """A `LocalMesh` whose offices are also served through their real FastAPI apps."""

    __test__ = False  # not a test class, despite the name
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    async def start(self, *office_ids: str) -> None:
        await super().start(*office_ids)
        for office_id in office_ids:
            ctx = self.contexts[office_id]
            app = create_app(self.settings(office_id), ctx.role, ctx=ctx)
            app.state.ctx = ctx
            self.clients[office_id] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=f"http://{office_id}", auth=StaffToken(ctx)
            )

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
        await super().stop(office_id)
