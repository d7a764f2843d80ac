"""Adaptive batch pulling: take whatever is waiting at once, else block for the next message.

nats-py's `fetch(n)` waits for a full batch or its timeout once the first message is in,
which adds that timeout to latency at moderate rates. Here a `no_wait` request returns the
messages already waiting (a batch under load), and only an empty consumer leads to a long
poll for a single message, so latency stays low and batches grow with load.

Failover: requests are plain messages to `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`, the
consumer leader's subject, answered on one inbox. What the server answers besides messages:
- `404 No Messages`, `408 Request Timeout`: the request ended, nothing more will come for it;
- `100 Idle Heartbeat`: a long poll is still held by the consumer's leader;
- `409` (`Leadership Change`, `Exceeded MaxWaiting`, ...): the request ended; ask again, except
  `409 Consumer Deleted`, raised as `ConsumerGone`;
- `503` (no responders): nothing serves the consumer's subject, because its leader is being
  elected, JetStream is unavailable, or the consumer does not exist (the server cannot tell these
  apart); raised as `PullUnavailable`, for the caller to back off and find out which
  (`consumer_info`);
- anything else (`400 Bad Request`, ...): raised as `PullRefused`, for the caller to back off.
A request in flight when the connection drops is lost with the server that had it (nats.py issue
#504: pull subscriptions that stop after a server reboot). With a `BusStatus`, the long poll wakes
at the reconnect and asks the new server at once, instead of waiting out its own expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import TimeoutError as NatsTimeoutError

from interpol_mesh.bus.connection import BusStatus

_END_STATUSES = {"404", "408", "409"}
_KNOWN_STATUSES = {*_END_STATUSES, "100", "503"}
NO_WAIT_REPLY_S = 2.0  # a no_wait request is answered at once; longer means the answer was lost
HEARTBEAT_S = 1.0  # while a long poll waits, the server sends a heartbeat this often


class PullUnavailable(Exception):
    """503: nothing answers for the consumer (an election, JetStream away, or no such consumer)."""


class PullRefused(Exception):
    """Any other status (400 Bad Request, ...): the request itself is wrong; retrying at once would loop."""


class ConsumerGone(Exception):
    """409 Consumer Deleted: the durable consumer was removed while a request waited."""


def _status(msg: Msg) -> str | None:
    if msg.headers and not msg.data:
        return msg.headers.get("Status")
    return None


def _check(msg: Msg, puller: BatchPuller | None = None) -> str | None:
    """The message's status; raise for the ones the caller must act on."""
    status = _status(msg)
    if status == "503":
        raise PullUnavailable("no responders for the consumer (leader election, JetStream away, or no consumer)")
    description = str(msg.headers.get("Description", "") if msg.headers else "")
    if status == "409" and "deleted" in description.lower():
        raise ConsumerGone("consumer deleted")
    if status is not None and status not in _KNOWN_STATUSES:
        raise PullRefused(f"{status} {description}".strip())
    if puller is not None:
        puller.answered = True
    return status


REPOLL_PAUSE_S = 0.1


class BatchPuller:
    def __init__(
        self,
        nc: Client,
        stream: str,
        consumer: str,
        max_batch: int = 256,
        *,
        status: BusStatus | None = None,
    ) -> None:
        self._nc = nc
        self._api = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self.stream = stream
        self.consumer = consumer
        self._max_batch = max_batch
        self._status = status
        self._sub: Subscription | None = None
        self._inbox = nc.new_inbox()
        self.answered = False  # the consumer itself answered the last `next_batch` (so it exists)

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

    def _taken(self, msg: Msg) -> Msg:
        """Account for a message taken off the queue as `next_msg` does: nats-py counts the bytes
        still queued against `pending_bytes_limit` and drops messages ("slow consumer") past it."""
        assert self._sub is not None
        self._sub._pending_size -= len(msg.data)
        self._sub._pending_queue.task_done()
        return msg

    def _queued(self, into: list[Msg]) -> None:
        assert self._sub is not None
        queue = self._sub._pending_queue  # messages of an earlier request still in the client
        while not queue.empty() and len(into) < self._max_batch:
            msg = self._taken(queue.get_nowait())
            if _status(msg) is None:
                into.append(msg)
                self.answered = True
            elif not into:
                _check(msg)  # a 503 left over from an earlier request still says something

    async def _next(self, timeout: float) -> Msg | None:
        """The next message on the inbox, or None after `timeout` or when the connection changed."""
        assert self._sub is not None
        if self._status is None:
            try:
                return await self._sub.next_msg(timeout=timeout)
            except (TimeoutError, NatsTimeoutError):
                return None
        changed = asyncio.ensure_future(self._status.changed.wait())
        get = asyncio.ensure_future(self._sub._pending_queue.get())
        try:
            done, _ = await asyncio.wait({get, changed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            changed.cancel()
            if not get.done():
                get.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await get
        if get in done or (get.done() and not get.cancelled()):
            return self._taken(get.result())
        return None

    async def next_batch(self, idle_wait: float = 5.0) -> list[Msg]:
        """Return at least one message, or an empty list after `idle_wait` seconds of silence
        (or sooner, when the connection dropped or came back). Raises PullUnavailable and
        ConsumerGone (see the module docstring) and the client's errors while disconnected."""
        assert self._sub is not None, "call start() first"
        self.answered = False
        batch: list[Msg] = []
        self._queued(batch)
        if batch:
            return batch
        if not self._nc.is_connected and self._status is not None:
            # Requests written now would wait in nats-py's buffer and all be answered at the
            # reconnect, piling up batches the office could not handle within ack_wait.
            msg = await self._next(idle_wait)  # until the connection changes
            if msg is not None and _status(msg) is None:
                batch.append(msg)  # a late answer to an earlier request: still a message to handle
            self._queued(batch)
            return batch
        await self._nc.publish(self._api, json.dumps({"batch": self._max_batch, "no_wait": True}).encode(), self._inbox)
        while len(batch) < self._max_batch:
            msg = await self._next(NO_WAIT_REPLY_S)
            if msg is None:
                break
            status = _check(msg, self)
            if status in _END_STATUSES:
                break
            if status is None:
                batch.append(msg)
        if batch or not self._nc.is_connected:
            return batch
        return await self._long_poll(idle_wait)

    async def _long_poll(self, idle_wait: float) -> list[Msg]:
        """Ask for one message, waiting up to `idle_wait`. The server confirms every HEARTBEAT_S that
        it still holds the request (status 100); a silence of two heartbeats means the request died
        with its server or with the consumer's leader, so the caller asks again at once instead of
        waiting out the expiry."""
        request = {"batch": 1, "expires": int(idle_wait * 1e9), "idle_heartbeat": int(HEARTBEAT_S * 1e9)}
        await self._nc.publish(self._api, json.dumps(request).encode(), self._inbox)
        deadline = asyncio.get_running_loop().time() + idle_wait + NO_WAIT_REPLY_S
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            msg = await self._next(min(left, 2 * HEARTBEAT_S + 0.5))
            if msg is None:
                return []
            status = _check(msg, self)
            if status is None:
                return [msg]
            if status != "100":
                # An expiry (408) or a refusal the caller may simply repeat (409): a short pause, so
                # a server that keeps answering 409 (e.g. too many waiting requests) is not polled hot.
                await asyncio.sleep(REPOLL_PAUSE_S)
                return []
        return []
