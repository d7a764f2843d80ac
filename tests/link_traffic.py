"""Steady traffic through the offices' real HTTP APIs, counted at the recipients' databases.

The sender posts small messages (POST /v1/messages, an officer's token) along fixed routes and
keeps every accepted (message_id, recipient). A watcher reads each recipient's inbox table and
notes when each pair first appears there, so a test can say what was delivered during a cut,
what waited, and how long the catch-up took after the heal. Duplicates are counted as rows
beyond one per (recipient, message_id); replays the recipient refused sit in its quarantine.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from interpol_mesh.storage import make_engine, tables
from interpol_mesh.testing.processes import OfficeProcess
from interpol_mesh.testing.regions import RegionalMesh

Route = tuple[str, str]  # sender, recipient


@dataclass(frozen=True)
class Sent:
    message_id: str
    sender: str
    recipient: str
    at: float  # time.monotonic() when the sender's API accepted it


@dataclass
class SteadyTraffic:
    mesh: RegionalMesh
    offices: dict[str, OfficeProcess]
    routes: list[Route]
    interval_s: float = 0.15
    sent: list[Sent] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    seen: dict[tuple[str, str], float] = field(default_factory=dict)  # (recipient, id) -> first seen
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _engines: dict[str, AsyncEngine] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._send_loop()), asyncio.create_task(self._watch_loop())]

    async def stop_sending(self) -> None:
        self._stop.set()
        await self._tasks[0]

    async def close(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for engine in self._engines.values():
            await engine.dispose()

    async def _send_loop(self) -> None:
        # A fresh connection per request: reusing one the server's keep-alive timer is closing loses
        # the request in flight (httpx ReadError), a race of the test client, not of the mesh.
        fresh = httpx.Limits(max_keepalive_connections=0)
        clients = {
            o: httpx.AsyncClient(base_url=p.url, headers=p.staff_headers(), timeout=10, limits=fresh)
            for o, p in self.offices.items()
        }
        try:
            n = 0
            while not self._stop.is_set():
                sender, recipient = self.routes[n % len(self.routes)]
                n += 1
                await self._send(clients[sender], sender, recipient, n)
                await asyncio.sleep(self.interval_s)
        finally:
            for client in clients.values():
                await client.aclose()

    async def _send(self, client: httpx.AsyncClient, sender: str, recipient: str, n: int) -> None:
        body = {"title": f"link fault {n}", "text": f"steady traffic {n} from {sender} to {recipient}"}
        try:
            answer = await client.post("/v1/messages", json={"recipients": [recipient], "language": "en", "body": body})
        except httpx.HTTPError as exc:
            self.refused.append(f"{sender}->{recipient}: {type(exc).__name__}: {exc}")
            return
        if answer.status_code not in (200, 201, 202):
            self.refused.append(f"{sender}->{recipient}: HTTP {answer.status_code} {answer.text[:200]}")
            return
        self.sent.append(Sent(answer.json()["message_id"], sender, recipient, time.monotonic()))

    def engine(self, office_id: str) -> AsyncEngine:
        if office_id not in self._engines:
            self._engines[office_id] = make_engine(self.mesh.settings(office_id))
        return self._engines[office_id]

    async def inbox_rows(self, office_id: str) -> list[str]:
        inbox = tables.inbox
        async with self.engine(office_id).connect() as conn:
            rows = await conn.execute(sa.select(inbox.c.message_id).where(inbox.c.kind == "message"))
            return [str(r) for r in rows.scalars().all()]

    async def _watch_loop(self) -> None:
        recipients = sorted({r for _, r in self.routes})
        while True:
            for office_id in recipients:
                with contextlib.suppress(Exception):  # a recipient's database is read, never waited on
                    now = time.monotonic()
                    for message_id in await self.inbox_rows(office_id):
                        self.seen.setdefault((office_id, message_id), now)
            await asyncio.sleep(0.3)

    def missing(self, among: list[Sent] | None = None) -> list[Sent]:
        return [s for s in (self.sent if among is None else among) if (s.recipient, s.message_id) not in self.seen]

    async def all_delivered(self) -> bool:
        return not self.missing()

    async def count(self) -> Counts:
        """Loss and duplicates from the recipients' own tables, not from the watcher's notes."""
        held: dict[str, list[str]] = {}
        quarantined = 0
        for office_id in sorted({s.recipient for s in self.sent}):
            held[office_id] = await self.inbox_rows(office_id)
            async with self.engine(office_id).connect() as conn:
                q = tables.quarantine
                quarantined += int((await conn.execute(sa.select(sa.func.count()).select_from(q))).scalar_one())
        lost = [s for s in self.sent if s.message_id not in held.get(s.recipient, [])]
        duplicated = sum(len(ids) - len(set(ids)) for ids in held.values())
        return Counts(sent=len(self.sent), lost=len(lost), duplicated=duplicated, quarantined=quarantined)


@dataclass(frozen=True)
class Counts:
    sent: int
    lost: int
    duplicated: int
    quarantined: int

    def line(self) -> str:
        return f"sent={self.sent} lost={self.lost} duplicated={self.duplicated} quarantined={self.quarantined}"


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0


def latency(traffic: SteadyTraffic, s: Sent) -> float | None:
    at = traffic.seen.get((s.recipient, s.message_id))
    return None if at is None else at - s.at
