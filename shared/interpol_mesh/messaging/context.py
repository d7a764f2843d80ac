"""The running office: everything a route, handler or background task needs, built by the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from interpol_mesh.bus import BusStatus, StreamPlan
from interpol_mesh.clock import Clock
from interpol_mesh.crypto import Signer
from interpol_mesh.directory import Directory, Office
from interpol_mesh.messaging.keyring import KeyRing
from interpol_mesh.messaging.unit_of_work import UnitOfWork, unit_of_work
from interpol_mesh.observability import OfficeMetrics, OfficeTracer, Stages
from interpol_mesh.settings import OfficeSettings

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
    streams: StreamPlan  # which stream holds this office's inbox, and which copy of the key directory it reads
    role: OfficeRole
    metrics: OfficeMetrics  # this office's Prometheus registry (`observability/metrics.py`)
    tracer: OfficeTracer = field(default_factory=OfficeTracer)  # off unless OTEL_TRACES_EXPORTER says (`tracing.py`)
    stages: Stages = field(init=False)  # the one hook of a message's stages: histogram and span (`stages.py`)
    relay: OutboxRelay | None = None
    consumer: InboxConsumer | None = None
    writer: GroupWriter | None = None
    database_error: str | None = field(default=None)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stages = Stages(self.metrics, self.tracer)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """The one way to write facts: a unit of work (connection, audit events, outbox rows,
        after-commit callbacks), committed as one (`messaging/unit_of_work.py`)."""
        async with unit_of_work(self) as uow:
            yield uow
