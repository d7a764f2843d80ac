"""Connect to NATS with reconnects forever, tracking state for /readyz.

Failover settings (nats-py's defaults are tuned for one long-lived server, not a cluster):
- every server of the region is listed (`NATS_URL` comma-separated) and nats-py shuffles the
  list (`dont_randomize=False`), so after a loss the client tries the others first and offices
  spread over the survivors instead of all landing on the first name;
- `max_reconnect_attempts` is bounded for the first connect (a wrong URL must end in one clear
  error) and set to -1 right after: nats-py reads `options["max_reconnect_attempts"]` at every
  server selection (`Client._select_next_server`), so the running client never gives up;
- `reconnect_time_wait` (0.5 s) is only the pause before retrying a server that failed a moment
  ago; an untried server of the list is tried at once, so a kill -9 of one server costs one
  connect round trip to the next;
- pings: a server killed on loopback resets the TCP connection (seen at once), but a dead host or
  a cut link on a real network sends nothing. nats-py's defaults (a ping every 120 s, 2
  outstanding) notice that after 4-6 minutes; PING_INTERVAL_S x (MAX_OUTSTANDING_PINGS + 1) gives
  15-20 s: long enough that a busy event loop (a large batch being verified) or a slow link does
  not make a false "stale connection", short enough that the office moves to a live server well
  inside JetStream's ack wait. The cost is one PING/PONG per office every 5 s.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client

from interpol_mesh.bus.tls import client_context
from interpol_mesh.errors import ConfigError, DependencyUnavailable
from interpol_mesh.logs import quiet_tls_eof_notice

log = logging.getLogger(__name__)

RECONNECT_TIME_WAIT_S = 0.5
PING_INTERVAL_S = 5
MAX_OUTSTANDING_PINGS = 3


@dataclass
class BusStatus:
    """What the connection callbacks saw; read by /readyz and by the pull loop.

    `changed` is set (and replaced by a fresh event) at every disconnect and reconnect, so a loop
    blocked on a request sent to the previous server (lost with it) can wake up and ask again at
    once instead of waiting out its own timeout.
    """

    connected: bool = False
    last_error: str | None = None
    reconnects: int = field(default=0)
    errors: list[str] = field(default_factory=list)
    disconnected_since: float | None = None  # loop time of the last disconnect, while it lasts
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def mark(self, connected: bool) -> None:
        self.connected = connected
        loop_time = asyncio.get_running_loop().time()
        self.disconnected_since = None if connected else (self.disconnected_since or loop_time)
        self.changed.set()  # wakes whoever waits on this one; later waiters wait for the next change
        self.changed = asyncio.Event()


async def connect(
    url: str,
    name: str,
    status: BusStatus,
    *,
    connect_timeout: float = 3.0,
    nkey_seed: Path | None = None,
    tls_ca: Path | None = None,
    inbox_prefix: str | None = None,
) -> Client:
    """First connect fails fast with one clear error; later outages reconnect in the background.

    `nkey_seed` is the office's NATS identity (its file, never its content, is passed to the
    client); `tls_ca` the CA that signed the server certificate; `inbox_prefix` keeps replies to
    this office on subjects only it may subscribe to.
    """

    async def disconnected() -> None:
        status.mark(connected=False)
        log.info("bus disconnected")

    async def reconnected() -> None:
        status.reconnects += 1
        status.mark(connected=True)
        url = nc.connected_url
        log.info("bus reconnected", extra={"server": url.netloc if url else None})

    async def error(exc: Exception) -> None:
        status.last_error = f"{type(exc).__name__}: {exc}"
        status.errors = [*status.errors[-4:], status.last_error]

    quiet_tls_eof_notice()  # asyncio's harmless warning at every close of a TLS connection (logs.py)
    servers = [s.strip() for s in url.split(",") if s.strip()]
    options: dict[str, Any] = {}
    if nkey_seed is not None:
        if not nkey_seed.exists():
            raise ConfigError(f"NATS credential missing: {nkey_seed} (create it with `interpol-mesh keys init`)")
        options["nkeys_seed"] = str(nkey_seed)
    if tls_ca is not None:
        if not tls_ca.exists():
            raise ConfigError(f"NATS TLS CA file missing: {tls_ca}")
        options["tls"] = client_context(tls_ca)
        options["tls_hostname"] = "127.0.0.1" if any("127.0.0.1" in s for s in servers) else None
    if inbox_prefix is not None:
        options["inbox_prefix"] = inbox_prefix
    try:
        nc = await nats.connect(
            servers=servers,
            **{k: v for k, v in options.items() if v is not None},
            name=name,
            connect_timeout=connect_timeout,
            # Bounded for the first connect (nats-py would loop forever on -1); unbounded below.
            max_reconnect_attempts=2,
            reconnect_time_wait=RECONNECT_TIME_WAIT_S,
            dont_randomize=False,
            ping_interval=PING_INTERVAL_S,
            max_outstanding_pings=MAX_OUTSTANDING_PINGS,
            allow_reconnect=True,
            disconnected_cb=disconnected,
            reconnected_cb=reconnected,
            error_cb=error,
        )
    except Exception as exc:
        detail = status.last_error or f"{type(exc).__name__}: {exc}"
        if any("authorization" in e.lower() for e in [*status.errors, str(exc)]):
            who = nkey_seed.name if nkey_seed else "no credential"
            raise DependencyUnavailable(
                f"NATS at {url} refused the credentials ({who}): authorization violation"
            ) from None
        raise DependencyUnavailable(f"cannot reach NATS at {url}: {detail}".rstrip(": ")) from None
    nc.options["max_reconnect_attempts"] = -1  # read live by nats-py on every reconnect
    status.mark(connected=True)
    return nc
