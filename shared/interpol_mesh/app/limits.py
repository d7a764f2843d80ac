"""What one office's HTTP API holds in memory, bounded before routing, authentication or any read.

FastAPI reads and parses a request body before it runs the route's dependencies, so without
bounds an anonymous client's body was held whole before the 401 (a 1 GiB POST cost gigabytes).
`RequestLimits` is the outermost of the app's own middleware and applies, per office:

- A body limit per route (`DEFAULT_BODY_BYTES`, more where a route declares it, e.g. the batch
  send): a declared Content-Length over it is answered 413 before a byte is read; a chunked body
  is counted as it arrives and answered 413 as soon as the count passes the limit. Nothing past
  the limit is read: uvicorn drops the rest as it arrives. (Closing the connection instead would
  reset it under a client still sending, and the client would never see the 413.)
- A bound on what is in flight: at most `max_requests` requests and `max_body_bytes` of request
  body at once (a declared length is reserved on arrival, a chunked body charged as it arrives).
  Beyond either, 503 with Retry-After rather than a queue: a queue would hold the very
  connections and bodies this bound is for, and a client can retry where a queue cannot shed
  load. So slow or oversized bodies cannot pile up memory, however many arrive.
- A deadline for the body (`body_deadline_s` from the first byte of the request): a client that
  trickles a body holds a slot only that long, then gets 408, so slow clients cannot keep every
  slot busy for ever (the bound above alone let 128 trickling connections shut an office's API).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interpol_mesh.envelope import MAX_ENVELOPE_BYTES

DEFAULT_BODY_BYTES = MAX_ENVELOPE_BYTES
"""A request makes at most one signed envelope, so its body never needs more than an envelope holds."""

BATCH_MESSAGE_BYTES = 32 * 1024
"""The average message size a batch may carry; bigger messages go one per request."""

RETRY_AFTER_S = 1
UNMETERED = frozenset({"/healthz", "/readyz"})
"""Probes read no body; an orchestrator must see the process alive and ready while it sheds load."""

BodyLimits = Mapping[tuple[str, str], int]
"""(method, path) -> body limit in bytes, for the routes that take more than the default."""


def batch_body_bytes(max_batch: int) -> int:
    return max_batch * BATCH_MESSAGE_BYTES


def too_large_detail(limit: int) -> str:
    return f"request body larger than {limit} bytes, the limit of this route"


class Refused(HTTPException):
    """Raised from `receive` once a body passes a bound: FastAPI answers it where the route reads."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(status, detail, headers={"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None)


class RequestLimits:
    """Pure ASGI middleware: body limits per route and the in-flight bound of one office (see above)."""

    def __init__(
        self, app: ASGIApp, *, body_limits: BodyLimits, max_requests: int, max_body_bytes: int,
        body_deadline_s: float,
    ) -> None:  # fmt: skip
        self.app = app
        self.body_deadline_s = body_deadline_s
        self.body_limits = dict(body_limits)
        self.max_requests = max_requests
        self.max_body_bytes = max_body_bytes
        self.requests = 0
        self.body_bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNMETERED:
            await self.app(scope, receive, send)
            return
        limit = self.body_limits.get((scope["method"], scope["path"]), DEFAULT_BODY_BYTES)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _answer(send, Refused(413, too_large_detail(limit)))
            return
        if self.requests >= self.max_requests:
            await _answer(send, Refused(503, f"{self.requests} requests in flight at this office; retry shortly"))
            return
        if declared is not None and self.body_bytes + declared > self.max_body_bytes:
            await _answer(send, Refused(503, "too many request bytes in flight at this office; retry shortly"))
            return
        charged = declared or 0
        received = 0
        started = False
        body_complete = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_deadline_s
        self.requests += 1
        self.body_bytes += charged

        async def limited_receive() -> Message:
            nonlocal charged, received, body_complete
            if body_complete:  # afterwards only a disconnect can come: no deadline on waiting for it
                return await receive()
            try:
                async with asyncio.timeout(max(0.0, deadline - loop.time())):
                    message = await receive()
            except TimeoutError:
                raise Refused(408, f"request body not complete within {self.body_deadline_s:g} s") from None
            if message["type"] == "http.request":
                body_complete = not message.get("more_body", False)
                size = len(message.get("body", b""))
                received += size
                if received > limit:
                    raise Refused(413, too_large_detail(limit))
                if declared is None:
                    if self.body_bytes + size > self.max_body_bytes:
                        raise Refused(503, "too many request bytes in flight at this office; retry shortly")
                    self.body_bytes += size
                    charged += size
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except Refused as exc:  # the body was read outside a route's handler: answer here if still possible
            if started:
                raise
            await _answer(send, exc)
        finally:
            self.requests -= 1
            self.body_bytes -= charged


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    return int(value) if value is not None and value.isascii() and value.isdigit() else None


async def _answer(send: Send, refusal: Refused) -> None:
    body = json.dumps({"detail": refusal.detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (refusal.headers or {}).items()]
    await send({"type": "http.response.start", "status": refusal.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
