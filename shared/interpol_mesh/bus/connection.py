"""Connect to NATS with reconnects forever, tracking state for /readyz."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import nats
from nats.aio.client import Client

from interpol_mesh.errors import DependencyUnavailable

log = logging.getLogger(__name__)


@dataclass
class BusStatus:
    connected: bool = False
    last_error: str | None = None
    reconnects: int = field(default=0)


async def connect(url: str, name: str, status: BusStatus, *, connect_timeout: float = 3.0) -> Client:
    """First connect fails fast with one clear error; later outages reconnect in the background."""

    async def disconnected() -> None:
        status.connected = False
        log.info("bus disconnected")

    async def reconnected() -> None:
        status.connected = True
        status.reconnects += 1
        log.info("bus reconnected")

    async def error(exc: Exception) -> None:
        status.last_error = f"{type(exc).__name__}: {exc}"

    servers = [s.strip() for s in url.split(",") if s.strip()]
    try:
        nc = await nats.connect(
            servers=servers,
            name=name,
            connect_timeout=connect_timeout,
            # Bounded for the first connect (nats-py would loop forever on -1); unbounded below.
            max_reconnect_attempts=2,
            reconnect_time_wait=0.5,
            allow_reconnect=True,
            disconnected_cb=disconnected,
            reconnected_cb=reconnected,
            error_cb=error,
        )
    except Exception as exc:
        raise DependencyUnavailable(f"cannot reach NATS at {url}: {type(exc).__name__}: {exc}".rstrip(": ")) from None
    nc.options["max_reconnect_attempts"] = -1  # read live by nats-py on every reconnect
    status.connected = True
    return nc
