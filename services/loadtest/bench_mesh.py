"""The mesh doing the raw pipeline's work through its own code path: one NCB sends, one NCB receives.

The mesh is `interpol-mesh up --ncbs fr,de` exporting its spans (`meshrun.StartedMesh`): every office
its own process, as in production. `ncb.fr` is sent messages through its API (`POST /v1/messages`
to `ncb.de`, 1 KiB of signed payload): API -> sign -> one transaction (sent, delivery, outbox) ->
relay publishes to JetStream -> `ncb.de`'s consumer pulls, verifies, commits the batch (inbox and
a signed `delivered` receipt in its outbox) -> acks; the receipt then travels back the same way.

The same through `POST /v1/messages/batch` (a national gateway forwarding a queue): each message
is still its own signed envelope, stored, published, verified, committed and receipted; only the
HTTP request and the sender's commit are shared.

Two ways of measuring, chosen by the mesh:
- untraced (`OTEL_TRACES_EXPORTER=none`, the offices' default, what the ratios use): send-to-commit
  is the API request to the time stamped in the recipient's inbox row (`received_at`, taken inside
  the transaction that commits the batch, after verification), read from the recipient's database;
  the raw protocol stamps and is read the same way. No span costs a cycle.
- traced (`--stages`): from the exported spans, with the per-stage timings and sign-to-commit (the
  part the raw pipeline also does: signing to commit, without the HTTP API); the spans' own CPU is
  then in the figures.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from datetime import UTC
from typing import Any

import sqlalchemy as sa

from interpol_mesh.directory import Directory
from interpol_mesh.storage import make_engine, tables
from interpol_offices.loadtest import bodies
from interpol_offices.loadtest.httpclient import HttpError
from interpol_offices.loadtest.loops import closed_loop, open_loop
from interpol_offices.loadtest.meshrun import MeshView
from interpol_offices.loadtest.stats import summary_ms
from interpol_offices.loadtest.traces import TraceTail
from interpol_offices.loadtest.tracker import Tracker

SENDER, RECIPIENT = "ncb.fr", "ncb.de"


class MeshDriver:
    def __init__(self, view: MeshView, directory: Directory, concurrency: int) -> None:
        self.view = view
        self.office = directory.get(SENDER)
        self.http = view.http_pool(per_port=concurrency)
        self.tracker = Tracker(time.time(), {SENDER, RECIPIENT})
        self.tail = TraceTail(view.trace_dir, lambda spans: self.tracker.on_spans(spans)) if view.trace_dir else None
        self.inbox = make_engine(view.office_settings(RECIPIENT)) if not view.traced else None
        self.rng = random.Random(5)
        self.errors: collections.Counter[str] = collections.Counter()

    def _payload(self, i: int) -> dict[str, Any]:
        return {
            "recipients": [RECIPIENT],
            "language": "fr-FR",
            "body": bodies.message(self.office, self.rng, f"bench-{i}"),
        }

    async def _send(self, first: int, batch: int = 0) -> None:
        """Message `first` through `POST /v1/messages`, or with `batch`, messages `first`.. through
        `POST /v1/messages/batch` in one request."""
        t_req = time.time()
        if batch:
            path, body, size = (
                "/v1/messages/batch",
                {"messages": [self._payload(first + k) for k in range(batch)]},
                batch,
            )
        else:
            path, body, size = "/v1/messages", self._payload(first), 1
        try:
            status, answer = await self.http.request(self.view.ports[SENDER], "POST", path, body)
        except HttpError as exc:
            self.errors[exc.reason] += size
            return
        if status != 202:
            self.errors[f"HTTP {status} {str(answer)[:80]}"] += size
            return
        t_done = time.time()
        for item in answer["accepted"] if batch else [answer]:
            self.tracker.accepted(item["message_id"], "message", SENDER, item["recipients"], t_req, t_done)

    async def _settle(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        if self.inbox is not None:
            await self._read_inbox(end)
        while self.tracker.committed < self.tracker.expected and time.monotonic() < end:
            await asyncio.sleep(0.05)  # spans arrive in files: polled with a deadline

    async def _read_inbox(self, end: float) -> None:
        """Untraced: the recipient's inbox rows of this run's messages, polled until all are there
        (or the deadline), each marked committed at its `received_at`."""
        assert self.inbox is not None
        i = tables.inbox
        waiting = set(self.tracker.messages)
        while waiting and time.monotonic() < end:
            ids, rows = sorted(waiting), list[Any]()
            async with self.inbox.connect() as conn:
                for k in range(0, len(ids), 5000):  # bound parameters per statement (asyncpg: 32,767)
                    rows += (await conn.execute(
                        sa.select(i.c.message_id, i.c.received_at).where(i.c.message_id.in_(ids[k : k + 5000]))
                    )).all()  # fmt: skip
            for mid, at in rows:
                at = at if at.tzinfo else at.replace(tzinfo=UTC)
                self.tracker.messages[mid].done[RECIPIENT] = (at.timestamp(), at.timestamp(), at.timestamp())
                waiting.discard(mid)
            self.tracker.committed = sum(len(m.done) for m in self.tracker.messages.values())
            if waiting:
                await asyncio.sleep(0.2)  # polling the recipient's database, with a deadline

    def _fresh(self) -> None:
        self.tracker = Tracker(time.time(), {SENDER, RECIPIENT})
        self.errors = collections.Counter()

    def _result(self) -> dict[str, Any]:
        t = self.tracker
        send_to_commit, sign_to_commit = [], []
        first = min((m.t_req for m in t.messages.values()), default=0.0)
        last = 0.0
        for m in t.messages.values():
            for _, _, commit in m.done.values():
                send_to_commit.append(commit - m.t_req)
                last = max(last, commit)
                if m.sign:
                    sign_to_commit.append(commit - m.sign[0])
        _, stages, api = t.stage_summary()
        return {
            "sent": len(t.messages), "committed": t.committed, "errors": dict(self.errors),
            "throughput": round(t.committed / (last - first), 1) if last > first else None,
            "send_to_commit_ms": summary_ms(send_to_commit), "sign_to_commit_ms": summary_ms(sign_to_commit),
            "stages_ms": stages, "api_ms": api,
        }  # fmt: skip

    async def saturated(self, count: int, concurrency: int, batch: int = 0) -> dict[str, Any]:
        """Closed loop: `concurrency` requests (of `batch` messages each, with the batch API) always
        in flight until `count` messages were accepted."""
        self._fresh()
        await closed_loop(range(0, count, batch or 1), concurrency,
                          lambda first: self._send(first, min(batch, count - first)))  # fmt: skip
        await self._settle(120)
        return {**self._result(), "batch_size": batch} if batch else self._result()

    async def at_rate(self, rate: float, duration_s: float) -> dict[str, Any]:
        """Open loop: one request every 1/rate seconds, whatever the mesh does."""
        self._fresh()
        await open_loop(rate, int(rate * duration_s), self._send)
        await self._settle(120)
        return {**self._result(), "offered_per_s": rate}

    async def __aenter__(self) -> MeshDriver:
        if self.tail is not None:
            self.tail.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.tail is not None:
            await self.tail.stop()
        if self.inbox is not None:
            await self.inbox.dispose()
        await self.http.close()
