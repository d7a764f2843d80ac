"""Holds the newest verified key directory and follows GS updates over the bus."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from nacl.signing import VerifyKey
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncEngine

from interpol_mesh.bus import subjects
from interpol_mesh.crypto import KeyDirectory, open_directory
from interpol_mesh.errors import ConfigError
from interpol_mesh.storage import insert_ignoring_duplicates, tables, writing

log = logging.getLogger(__name__)

Refreshed = Literal["adopted", "current", "unreachable"]

TRUST_ANCHOR_FILE = "trust-anchor.pub"
BOOTSTRAP_DIRECTORY_FILE = "directory.signed.json"


def load_trust_anchor(key_dir: Path) -> VerifyKey:
    path = key_dir / TRUST_ANCHOR_FILE
    try:
        return VerifyKey(base64.b64decode(path.read_text().strip()))
    except FileNotFoundError:
        raise ConfigError(
            f"trust anchor missing: {path} (create the mesh keys with `interpol-mesh keys init`)"
        ) from None
    except ValueError:
        raise ConfigError(f"trust anchor {path} is not a base64 Ed25519 public key") from None


class KeyRing:
    """The verifier's view of who owns which key; only a newer, root-signed directory replaces it."""

    def __init__(
        self, trust_anchor: VerifyKey, engine: AsyncEngine, streams: tuple[str, ...] = (subjects.KEYS_STREAM,)
    ) -> None:
        self._anchor = trust_anchor
        self._engine = engine
        # Where the directory is read, nearest first: the region's mirror, then MESH_KEYS itself
        # (StreamPlan.key_streams). Only MESH_KEYS is authoritative: a mirror can lag after a cut.
        self._streams = streams
        self._current: KeyDirectory | None = None
        self._current_signed: bytes | None = None
        self._sub: Subscription | None = None
        self.listeners: list[Callable[[KeyDirectory], Awaitable[None]]] = []

    @property
    def current(self) -> KeyDirectory:
        if self._current is None:
            raise RuntimeError("key directory not loaded")
        return self._current

    @property
    def loaded(self) -> bool:
        return self._current is not None

    async def offer(self, signed: bytes, *, persist: bool = True) -> bool:
        """Adopt `signed` if it verifies and is newer; returns whether it was adopted."""
        if signed == self._current_signed:
            return False  # the periodic refresh reads the same bytes again: no need to verify and parse them
        try:
            document = open_directory(signed, self._anchor)
            if self._current is not None and document.version <= self._current.version:
                return False
            directory = KeyDirectory(document)
        except Exception as exc:  # unsigned, malformed, or a record with an unusable key
            log.warning("key directory refused", extra={"reason": f"{type(exc).__name__}: {exc}"})
            return False
        self._current = directory
        self._current_signed = signed
        for listener in self.listeners:
            await listener(self._current)
        log.info("key directory adopted", extra={"version": document.version, "keys": len(document.keys)})
        if persist:
            # A cache of what the GS signed, not a fact of this office: no unit of work, no audit record.
            async with writing(self._engine) as conn:
                stmt = insert_ignoring_duplicates(tables.key_directory, conn.dialect.name)
                await conn.execute(stmt.values(version=document.version, issued_at=document.issued_at, signed=signed))
        return True

    async def notify_listeners(self) -> None:
        for listener in self.listeners:
            await listener(self.current)

    async def refresh(self, js: JetStreamContext) -> Refreshed:
        """Read the bus's last key directory now (a key we do not know may be brand new).

        "unreachable" (bus away, no directory on the bus, our store away) is not "current": a key
        can only be called unknown after the latest directory was actually read, at the origin. A
        mirror read alone cannot say "current": after a region's cut it may not have resynced yet
        while a message signed with a key listed during the cut is already here; such a message is
        held, not refused, until MESH_KEYS answers.
        """
        adopted, authoritative = False, False
        for stream in self._streams:
            try:
                last = await js.get_last_msg(stream, subjects.KEY_DIRECTORY_SUBJECT)
            except Exception:
                continue
            if not last.data:
                continue
            try:
                adopted = await self.offer(bytes(last.data)) or adopted
            except Exception:  # adopted in memory, but our store refused it
                return "unreachable"
            authoritative = authoritative or stream == subjects.KEYS_STREAM
        if adopted:
            return "adopted"
        return "current" if authoritative else "unreachable"

    async def refresher(self, js: JetStreamContext, every_s: float = 30.0) -> None:
        """Catch up on versions missed while disconnected (core subscriptions do not replay)."""
        while True:
            await asyncio.sleep(every_s)
            await self.refresh(js)

    async def load_initial(self, js: JetStreamContext, key_dir: Path) -> None:
        """Newest of: the bus's last value, our own stored copy, the bootstrap file from `keys init`."""
        for stream in self._streams:
            try:
                last = await js.get_last_msg(stream, subjects.KEY_DIRECTORY_SUBJECT)
            except NotFoundError:
                continue
            except Exception:
                if stream == self._streams[0]:
                    raise
                continue  # the origin across a cut gateway: the region's own copy was read
            if last.data:
                await self.offer(bytes(last.data))
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(tables.key_directory.c.signed).order_by(tables.key_directory.c.version.desc()).limit(1)
                )
            ).first()
        if row is not None:
            await self.offer(row.signed, persist=False)
        bootstrap = key_dir / BOOTSTRAP_DIRECTORY_FILE
        if bootstrap.exists():
            await self.offer(bootstrap.read_bytes())
        if self._current is None:
            raise ConfigError(f"no key directory: none on the bus, none stored, and {bootstrap} is missing")

    async def follow(self, nc: Client) -> None:
        async def on_update(msg: Msg) -> None:
            await self.offer(msg.data)

        self._sub = await nc.subscribe(subjects.KEY_DIRECTORY_SUBJECT, cb=on_update)

    async def stop(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:  # connection gone already
                pass
