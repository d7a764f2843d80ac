"""The offices' exported spans (`TRACE_DIR/<pid>.jsonl`, one span per line) as the tracker's stage records.

An office run with `OTEL_TRACES_EXPORTER=file` writes every span it ends as one JSON object:
`{"name", "trace_id", "span_id", "parent_id", "office", "start", "end", "attributes"}`, times in
wall-clock seconds like the load generator's own (`time.time()`), so the two can be subtracted.
`SpanJoin.feed` turns them into the records the tracker joins per message:

| span | record |
|---|---|
| `sign` | `["S", message id, kind, sender, correlation id, receipt type, start, end]` |
| `publish` (one per outbox row) | `["P", "<message id>:<recipient>", end]` (end: JetStream acked) |
| `deliver`, `verify`, `commit` of one envelope at one recipient | `["R", message id, recipient, kind, deliver start, verify end, commit end]` |
| `sign` of a `delivered` receipt (or its `receipt` span) | `["D", message id]`: not tracked, anything held for it is dropped |

`delivered` receipts (one per delivery) are not tracked: the load test checks them in the senders'
`delivery` tables instead (`accounting.py`). Their publishes carry the receipt type and are
skipped at once; their deliver, verify and commit spans at the original sender do not, so they are
skipped once the receipt's `sign` span has been seen (it may be read later, from another
process's file: until then they wait, and `purge` drops what never completes).

The recipient's spans nest: `deliver` (a child of the sender's `publish`, or a root when the
envelope carried no trace context), and `verify`, `commit` and `receipt` children of that
`deliver`. They end in any order (the `deliver` span outlasts its commit, so it is read last),
and a message fetched twice (redelivered after a failed batch) has two `deliver` spans, each with
its `verify`, but one `commit` (only a committed transaction's envelopes get one). So an `R` is
given once the commit, the `deliver` span that is its parent and that span's `verify` are all
read: the stages of the attempt that committed, never the failed one's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Record = list[Any]
Span = Mapping[str, Any]


@dataclass(slots=True)
class _Delivery:
    kind: str
    seen: float  # when its first span was read (wall clock), for `purge`
    fetched: dict[str | None, float] = field(default_factory=dict)  # deliver span id -> start
    verified: dict[str | None, float] = field(default_factory=dict)  # its deliver span id -> end
    committed: tuple[str | None, float] | None = None  # (its deliver span id, end)


class SpanJoin:
    def __init__(self) -> None:
        self._open: dict[str, dict[str, _Delivery]] = {}  # message id -> recipient -> its spans so far
        self._delivered: set[str] = set()  # delivered receipts whose spans are skipped
        self.skipped = 0  # lines that were not a span of ours (no message id, bad times)

    def feed(self, span: Span) -> list[Record]:
        """The records `span` completes (often none: a delivery needs three spans)."""
        attrs: Mapping[str, Any] = span.get("attributes") or {}
        mid, name = attrs.get("mesh.message_id"), span.get("name")
        try:
            start, end = float(span["start"]), float(span["end"])
        except (KeyError, TypeError, ValueError):
            self.skipped += 1
            return []
        if not isinstance(mid, str):
            return []  # a span of no message: nothing to join
        if (
            name == "receipt"
            and attrs.get("mesh.kind") == "receipt"
            and attrs.get("mesh.receipt_type") in (None, "delivered")
        ):
            return self._skip(mid)  # the span names the delivered receipt by its own id
        if name == "sign":
            rtype = attrs.get("mesh.receipt_type")
            if rtype == "delivered":
                return self._skip(mid)
            sender = attrs.get("mesh.sender") or span.get("office")
            return [["S", mid, attrs.get("mesh.kind"), sender, attrs.get("mesh.correlation_id"), rtype, start, end]]
        if name == "publish":
            if attrs.get("mesh.receipt_type") == "delivered":
                return []
            return [["P", f"{mid}:{attrs.get('mesh.recipient')}", end]]
        if name in ("deliver", "verify", "commit"):
            if mid in self._delivered:
                if name == "commit":
                    self._delivered.discard(mid)
                return []
            recipient = str(attrs.get("mesh.recipient") or span.get("office"))
            return self._delivery(name, mid, recipient, str(attrs.get("mesh.kind")), span, start, end)
        return []

    def _skip(self, mid: str) -> list[Record]:
        """`mid` is a delivered receipt: drop what was held for it, skip what comes."""
        self._delivered.add(mid)
        self._open.pop(mid, None)
        return [["D", mid]]

    def _delivery(
        self, name: str, mid: str, recipient: str, kind: str, span: Span, start: float, end: float
    ) -> list[Record]:
        by_recipient = self._open.setdefault(mid, {})
        d = by_recipient.get(recipient)
        if d is None:
            d = by_recipient[recipient] = _Delivery(kind, time.time())
        if name == "deliver":
            d.fetched[span.get("span_id")] = start
        elif name == "verify":
            d.verified[span.get("parent_id")] = end
        else:
            d.committed = (span.get("parent_id"), end)
        if d.committed is None:
            return []
        fetch, commit = d.committed
        if fetch not in d.fetched or fetch not in d.verified:
            return []  # the committed attempt's deliver (it ends last) or verify is still to be read
        del by_recipient[recipient]
        if not by_recipient:
            del self._open[mid]
        return [["R", mid, recipient, d.kind, d.fetched[fetch], d.verified[fetch], commit]]

    def pending(self) -> int:
        """Deliveries with some spans read and no complete record yet."""
        return sum(len(r) for r in self._open.values())

    def purge(self, before: float) -> int:
        """Forget deliveries first seen before `before` that never completed (refused, replayed);
        returns how many."""
        dropped = 0
        for mid in list(self._open):
            by_recipient = self._open[mid]
            for recipient in [r for r, d in by_recipient.items() if d.seen < before]:
                del by_recipient[recipient]
                dropped += 1
            if not by_recipient:
                del self._open[mid]
        return dropped
