"""Timestamps from inside the offices of a mesh started by `interpol-mesh load`.

The load test starts the mesh with `interpol-mesh up` itself, with `loadtest/inject` on
PYTHONPATH: its `sitecustomize` calls `install()` in every process of the mesh when
`LOADTEST_TRACE_DIR` is set. Four functions of the real code path are wrapped to note the time;
nothing else changes:

| wrapped | record | meaning |
|---|---|---|
| `messaging.outbound.seal` | `S` | signing of a message (start, end), with its id, kind, sender, correlation |
| `JetStreamContext.publish` on `mesh.v1.direct.*` and `mesh.v1.notice.*` | `P` | the relay's publish (start, JetStream ack) per `message:recipient` |
| `messaging.inbound.open_envelope` | (in `R`) | verification of one envelope (start, end) |
| `InboxConsumer.handle` | `R` | batch fetched, envelope verified, batch committed (when `handle` returned) |

A daemon thread appends the records every 200 ms as JSON lines to `LOADTEST_TRACE_DIR/<pid>.jsonl`,
which the load test tails (files, not the bus: the bus only lets an office publish under its own
subjects). `delivered` receipts (one per delivery, sent inside the recipient's transaction) are
not traced: they are checked in the senders' `delivery` tables instead.
"""

from __future__ import annotations

import collections
import contextvars
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

FLUSH_S = 0.2
ENV = "LOADTEST_TRACE_DIR"

_records: collections.deque[list[Any]] = collections.deque()
_skip: set[str] = set()  # ids of delivered receipts: their publishes are not traced
_batch: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("loadtest_batch", default=None)
_installed = False


def install(trace_dir: str) -> None:
    global _installed
    if _installed:
        return
    _installed = True
    from nats.js.client import JetStreamContext

    from interpol_mesh.messages import Receipt
    from interpol_mesh.messaging import inbound, outbound

    real_seal = outbound.seal

    def seal(header: Any, body: Any, signer: Any) -> Any:
        t0 = time.time()
        sealed = real_seal(header, body, signer)
        t1 = time.time()
        rtype = body.receipt_type if isinstance(body, Receipt) else None
        if rtype == "delivered":
            _skip.add(header.message_id)
        else:
            _records.append(["S", header.message_id, header.kind, header.sender, header.correlation_id, rtype, t0, t1])
        return sealed

    outbound.seal = seal

    real_publish = JetStreamContext.publish

    async def publish(self: Any, subject: str, payload: bytes = b"", *args: Any, **kwargs: Any) -> Any:
        headers = kwargs.get("headers")
        if not headers or not subject.startswith(("mesh.v1.direct.", "mesh.v1.notice.")):
            return await real_publish(self, subject, payload, *args, **kwargs)
        t0 = time.time()
        ack = await real_publish(self, subject, payload, *args, **kwargs)
        # Nats-Msg-Id is `<message id>:<recipient>:<nonce>`; the trace keys deliveries by the first two.
        dedupe = ":".join(headers.get("Nats-Msg-Id", "").split(":")[:2])
        mid = dedupe.partition(":")[0]
        if mid in _skip:
            _skip.discard(mid)
        else:
            _records.append(["P", dedupe, t0, time.time()])
        return ack

    JetStreamContext.publish = publish  # type: ignore[method-assign]

    real_open = inbound.open_envelope

    def open_envelope(raw: bytes, **kwargs: Any) -> Any:
        t0 = time.time()
        verified = real_open(raw, **kwargs)
        batch = _batch.get()
        if batch is not None:
            body = verified.body
            if not (isinstance(body, Receipt) and body.receipt_type == "delivered"):
                batch["v"].append((verified.header.message_id, verified.header.kind, t0, time.time()))
        return verified

    inbound.open_envelope = open_envelope

    real_handle = inbound.InboxConsumer.handle

    async def handle(self: Any, msgs: list[Any]) -> None:
        ctx = self.ctx
        batch: dict[str, Any] = {"fetched": time.time(), "v": [], "commit": None}
        token = _batch.set(batch)
        try:
            await real_handle(self, msgs)
        finally:
            _batch.reset(token)
        commit = batch["commit"] or time.time()
        me = ctx.office.id
        for mid, kind, v0, v1 in batch["v"]:
            _records.append(["R", mid, me, kind, batch["fetched"], v0, v1, commit])

    inbound.InboxConsumer.handle = handle  # type: ignore[method-assign]
    _start_flusher(trace_dir)


def _flush_forever(path: Path) -> None:
    while True:
        time.sleep(FLUSH_S)
        if not _records:
            continue
        chunk = []
        while _records:
            chunk.append(_records.popleft())
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(chunk, separators=(",", ":")) + "\n")


def _start_flusher(trace_dir: str) -> None:
    path = Path(trace_dir) / f"{os.getpid()}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    threading.Thread(target=_flush_forever, args=(path,), name="loadtest-probe", daemon=True).start()
