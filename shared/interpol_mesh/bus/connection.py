"""Connect to NATS with reconnects forever, tracking state for /readyz."""

from __future__ import annotations

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


@dataclass
class BusStatus:
    connected: bool = False
    last_error: str | None = None
    reconnects: int = field(default=0)
    errors: list[str] = field(default_factory=list)


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
        status.connected = False
        log.info("bus disconnected")

    async def reconnected() -> None:
        status.connected = True
        status.reconnects += 1
        log.info("bus reconnected")

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
            reconnect_time_wait=0.5,
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
    status.connected = True
    return nc
