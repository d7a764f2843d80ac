"""Stage timestamps an office records on its own message path: signed, published, fetched, verified, committed.

Off by default: every hook is then a single test of a module flag. With the `STAGE_TRACE_DIR`
setting, `configure` (called once by the process entry point) turns them on and a daemon thread
appends what they noted every FLUSH_S as JSON lines to `STAGE_TRACE_DIR/<pid>.jsonl`, one JSON
array of records per line (files, not the bus: an office may only publish under its own
subjects). The load test reads them (`interpol_offices.loadtest.traces`) to split each
delivery's latency into stages; they are a first step towards the mesh's metrics and traces.

| record | written by | fields after the kind letter |
|---|---|---|
| `S` | `outbound.compose`, after signing | message id, kind, sender, correlation id, receipt type or null, start, end |
| `P` | the relay, when JetStream acked a publish | `<message id>:<recipient>`, acked |
| `R` | the inbox consumer, after a transaction stored the message | message id, recipient, kind, batch fetched, this envelope verified, committed |

Times are wall-clock seconds (`time.time()`), not the office's `Clock`: they are joined across
processes with the load generator's own, and nothing decides anything by them. `delivered`
receipts (one per delivery, sent inside the recipient's transaction) are not recorded; the
load test checks them in the senders' `delivery` tables instead. Only messages a committed
transaction stored get an `R`: a replay or a refused receipt is verified but never committed, and
in the one-by-one fallback (a handler failed) each message gets its own transaction's time.
"""

from __future__ import annotations

import atexit
import collections
import contextvars
import json
import os
import threading
import time
from collections.abc import Awaitable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from interpol_mesh.envelope import Header, Verified
from interpol_mesh.messages import Receipt

FLUSH_S = 0.2
T = TypeVar("T")

_records: collections.deque[list[Any]] = collections.deque()
_untraced: set[str] = set()  # ids of delivered receipts signed here: their publishes are not recorded either
_enabled = False
_path: Path | None = None
_lock = threading.Lock()


@dataclass
class _Batch:
    office_id: str
    fetched: float
    verified: list[tuple[str, str, float]] = field(default_factory=list)  # (message id, kind, when)


_batch: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("stage_trace_batch", default=None)


def configure(trace_dir: Path | None) -> None:
    """Record from now on into `trace_dir/<pid>.jsonl` (None: stay off). Once per process."""
    global _enabled, _path
    if trace_dir is None or _enabled:
        return
    trace_dir.mkdir(parents=True, exist_ok=True)
    _path = trace_dir / f"{os.getpid()}.jsonl"
    _enabled = True
    threading.Thread(target=_flush_forever, name="stage-trace", daemon=True).start()
    atexit.register(flush)


def now() -> float:
    """The start of a timed stage (cheap enough to call when tracing is off)."""
    return time.time()


def _delivered_receipt(body: BaseModel) -> bool:
    return isinstance(body, Receipt) and body.receipt_type == "delivered"


def signed(header: Header, body: BaseModel, started: float) -> None:
    """The envelope of `header` was signed between `started` and now."""
    if not _enabled:
        return
    if _delivered_receipt(body):
        _untraced.add(header.message_id)
        return
    rtype = body.receipt_type if isinstance(body, Receipt) else None
    _records.append(
        ["S", header.message_id, header.kind, header.sender, header.correlation_id, rtype, started, time.time()]
    )


def published(dedupe_id: str, publish: Awaitable[T]) -> Awaitable[T]:
    """The relay's `publish` of the outbox row `dedupe_id`, noting when JetStream acked it (off: as it is)."""
    return _acked(dedupe_id, publish) if _enabled else publish


async def _acked(dedupe_id: str, publish: Awaitable[T]) -> T:
    ack = await publish
    # The row's Nats-Msg-Id is `<message id>:<recipient>:<nonce>`: deliveries are keyed by the first two.
    delivery = ":".join(dedupe_id.split(":")[:2])
    message_id = delivery.partition(":")[0]
    if message_id in _untraced:
        _untraced.discard(message_id)
    else:
        _records.append(["P", delivery, time.time()])
    return ack


def fetched(office_id: str) -> None:
    """The inbox consumer of `office_id` fetched a batch; what it verifies and commits next belongs to it."""
    _batch.set(_Batch(office_id, time.time()) if _enabled else None)


def verified(envelope: Verified) -> None:
    """An envelope of the current batch passed every check."""
    batch = _batch.get()
    if batch is not None and not _delivered_receipt(envelope.body):
        batch.verified.append((envelope.header.message_id, envelope.header.kind, time.time()))


def committed(stored: Collection[str]) -> None:
    """A transaction of the current batch committed with the messages `stored` in the recipient's
    database; the batch's other envelopes (refused as replays or mismatched receipts, or left for
    a later transaction of the one-by-one fallback) are not recorded as committed."""
    batch = _batch.get()
    if batch is None or not stored:
        return
    at = time.time()
    waiting = []
    for message_id, kind, when in batch.verified:
        if message_id in stored:
            _records.append(["R", message_id, batch.office_id, kind, batch.fetched, when, at])
        else:
            waiting.append((message_id, kind, when))
    batch.verified = waiting


def flush() -> None:
    """Append what was recorded since the last flush to this process's file."""
    if _path is None or not _records:
        return
    with _lock:
        chunk = []
        while _records:
            chunk.append(_records.popleft())
        with open(_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(chunk, separators=(",", ":")) + "\n")


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_S)
        flush()
