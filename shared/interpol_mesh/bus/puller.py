"""Adaptive batch pulling: take whatever is waiting at once, else block for the next message.

nats-py's `fetch(n)` waits for a full batch or its timeout once the first message is in,
which adds that timeout to latency at moderate rates. Here a `no_wait` request returns the
messages already waiting (a batch under load), and only an empty consumer leads to a long
poll for a single message, so latency stays low and batches grow with load.
"""

from __future__ import annotations

import json

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

_END_STATUSES = {"404", "408", "409"}


def _status(msg: Msg) -> str | None:
    if msg.headers and not msg.data:
        return msg.headers.get("Status")
    return None


class BatchPuller:
    def __init__(self, nc: Client, stream: str, consumer: str, max_batch: int = 256) -> None:
        self._nc = nc
        self._api = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._max_batch = max_batch
        self._sub: Subscription | None = None
        self._inbox = nc.new_inbox()

    async def start(self) -> None:
        self._sub = await self._nc.subscribe(
            self._inbox, pending_msgs_limit=100_000, pending_bytes_limit=512 * 1024 * 1024
        )

    async def stop(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:  # connection already closed: nothing to undo
                pass
            self._sub = None

    def _queued(self, into: list[Msg]) -> None:
        assert self._sub is not None
        queue = self._sub._pending_queue  # messages of an earlier request still in the client
        while not queue.empty() and len(into) < self._max_batch:
            msg = queue.get_nowait()
            if _status(msg) is None:
                into.append(msg)

    async def next_batch(self, idle_wait: float = 5.0) -> list[Msg]:
        """Return at least one message, or an empty list after `idle_wait` seconds of silence."""
        assert self._sub is not None, "call start() first"
        batch: list[Msg] = []
        self._queued(batch)
        if batch:
            return batch
        await self._nc.publish(self._api, json.dumps({"batch": self._max_batch, "no_wait": True}).encode(), self._inbox)
        while len(batch) < self._max_batch:
            try:
                msg = await self._sub.next_msg(timeout=2.0)
            except TimeoutError:
                break
            if _status(msg) in _END_STATUSES:
                break
            if _status(msg) is None:
                batch.append(msg)
        if batch:
            return batch
        expires_ns = int(idle_wait * 1e9)
        await self._nc.publish(self._api, json.dumps({"batch": 1, "expires": expires_ns}).encode(), self._inbox)
        try:
            msg = await self._sub.next_msg(timeout=idle_wait + 2.0)
        except TimeoutError:
            return []
        return [msg] if _status(msg) is None else []
