"""The running office: everything a route, handler or background task needs, built by the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from interpol_mesh.bus import BusStatus
from interpol_mesh.clock import Clock
from interpol_mesh.crypto import Signer
from interpol_mesh.directory import Directory, Office
from interpol_mesh.messaging import audit_trail
from interpol_mesh.messaging import relay as outbox_relay
from interpol_mesh.messaging.keyring import KeyRing
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import writing

if TYPE_CHECKING:
    from interpol_mesh.messaging.group_writer import GroupWriter
    from interpol_mesh.messaging.inbound import InboxConsumer
    from interpol_mesh.messaging.relay import OutboxRelay
    from interpol_mesh.messaging.role import OfficeRole


@dataclass
class OfficeContext:
    settings: OfficeSettings
    office: Office
    directory: Directory
    clock: Clock
    engine: AsyncEngine
    signer: Signer
    keyring: KeyRing
    nc: Client
    js: JetStreamContext
    bus_status: BusStatus
    role: OfficeRole
    relay: OutboxRelay | None = None
    consumer: InboxConsumer | None = None
    writer: GroupWriter | None = None
    database_error: str | None = field(default=None)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    on_commit: list[Callable[[], None]] = field(default_factory=list)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One database transaction; once it has committed, hand what it wrote to the outbox to
        the relay and wake whoever else publishes from the database (the GS key directory)."""
        async with writing(self.engine) as conn:
            outbox_relay.take_written(conn)  # conn.info outlives checkouts: drop anything a foreign caller left
            try:
                yield conn
                await audit_trail.flush(conn, self.clock.now())
                written = outbox_relay.take_written(conn)
            except BaseException:
                audit_trail.discard(conn)
                outbox_relay.take_written(conn)
                raise
        if written and self.relay is not None and self.settings.relay_enabled:
            self.relay.handoff(written)
        for wake in self.on_commit:
            wake()
