"""Every message of the run, from the request that created it to its commit at each recipient.

Three sources are joined by message id: the generator (request sent, 202 received), the spans
the offices export (`OTEL_TRACES_EXPORTER=file`; `spans.py` turns `sign`, `publish`, `deliver`,
`verify` and `commit` into stage records: signed, published, fetched, verified, committed) and,
at the end, the recipients' databases (`accounting.py`, which alone decides loss and duplicates).

Stages of one delivery, consecutive so that they add up to the end-to-end latency:

    accept   request sent          -> signing starts (HTTP, validation, routing)
    sign     signing               (Ed25519 over the DSSE encoding)
    publish  signed                -> JetStream acked the publish (sender commit, relay: `publish` end)
    deliver  JetStream ack         -> batch fetched by the recipient's consumer (`deliver` start)
    verify   fetched               -> this envelope verified, after those before it in the batch (`verify` end)
    commit   verified              -> the batch committed in the recipient's database (`commit` end)
"""

from __future__ import annotations

import collections
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from interpol_offices.loadtest.spans import Span, SpanJoin
from interpol_offices.loadtest.stats import Series, percentile, summary_ms

STAGES = ("accept", "sign", "publish", "deliver", "verify", "commit")
ACKABLE = frozenset({"message", "diffusion", "hit"})
ORPHAN_TTL_S = 120.0


@dataclass(slots=True)
class Tracked:
    op: str
    sender: str
    recipients: tuple[str, ...]
    t_req: float
    t_acc: float
    sign: tuple[float, float] | None = None
    pub: dict[str, float] = field(default_factory=dict)
    # recipient -> (batch fetched, envelope verified, batch committed)
    done: dict[str, tuple[float, float, float]] = field(default_factory=dict)


class Tracker:
    def __init__(self, t0: float, ncb_ids: set[str]) -> None:
        self.t0 = t0
        self.ncb_ids = ncb_ids
        self.messages: dict[str, Tracked] = {}
        self.series = Series(t0)
        self.errors: collections.Counter[str] = collections.Counter()
        self.expected = 0
        self.committed = 0
        self.traced = False  # set once a span arrives: the mesh exports its spans
        self.spans = SpanJoin()
        self._orphans: dict[str, list[tuple[float, list[Any]]]] = {}
        self._acks: dict[tuple[str, str], tuple[float, float, str]] = {}
        self._ack_signs: dict[tuple[str, str], list[Any]] = {}
        self.ackable: dict[str, collections.deque[str]] = collections.defaultdict(collections.deque)
        self.acks_requested = 0
        self.lag: array[float] = array("d")  # how late the generator issued each arrival (CPU starvation shows here)
        self._recent: collections.deque[tuple[float, float]] = collections.deque()  # (commit time, latency)
        self._offered: collections.deque[float] = collections.deque()
        self.untraced_records = 0

    # -- from the generator ----------------------------------------------------------------------

    def offered(self, t: float) -> None:
        self.series.at(t).offered += 1
        self._offered.append(t)

    def error(self, t: float, reason: str) -> None:
        self.errors[reason] += 1
        self.series.at(t).errors += 1

    def accepted(self, mid: str, op: str, sender: str, recipients: list[str], t_req: float, t_acc: float) -> None:
        self.series.at(t_req).accepted += 1
        self._register(mid, Tracked(op, sender, tuple(recipients), t_req, t_acc))

    def acknowledged(self, orig_mid: str, acker: str, t_req: float, t_acc: float) -> None:
        """The acker's API accepted the acknowledgement: a signed receipt is due at the original sender."""
        self.series.at(t_req).accepted += 1
        orig = self.messages.get(orig_mid)
        if orig is None:
            return
        key = (orig_mid, acker)
        self._acks[key] = (t_req, t_acc, orig.sender)
        stashed = self._ack_signs.pop(key, None)
        if stashed is not None:
            self._on_sign(stashed)

    def pending_acks(self) -> list[tuple[str, str, str]]:
        """(original message, acker, original sender) of acknowledgements whose receipt id is not known."""
        return [(mid, acker, sender) for (mid, acker), (_, _, sender) in self._acks.items()]

    def _register(self, mid: str, msg: Tracked) -> None:
        self.messages[mid] = msg
        self.expected += len(msg.recipients)
        for _, record in self._orphans.pop(mid, []):
            self.on_record(record)

    # -- from the offices' spans -----------------------------------------------------------------

    def on_spans(self, spans: Sequence[Span]) -> None:
        """Spans as `TraceTail` reads them, in file order (one office process's file at a time)."""
        self.traced = True
        for span in spans:
            for record in self.spans.feed(span):
                self.on_record(record)

    def on_record(self, record: list[Any]) -> None:
        kind = record[0]
        if kind == "D":  # a delivered receipt: whatever waited for its id will never be claimed
            self._orphans.pop(record[1], None)
            return
        if kind == "S":
            self._on_sign(record)
            return
        mid = record[1].partition(":")[0] if kind == "P" else record[1]
        msg = self.messages.get(mid)
        if msg is None:
            self._orphans.setdefault(mid, []).append((time.time(), record))
            return
        if kind == "P":
            recipient = record[1].partition(":")[2]
            msg.pub.setdefault(recipient, record[2])
        elif kind == "R":
            self._on_commit(mid, msg, record)

    def _on_sign(self, record: list[Any]) -> None:
        _, mid, kind, sender, corr, rtype, t0, t1 = record
        if kind == "receipt" and rtype == "acknowledged":
            key = (corr, sender)
            ack = self._acks.pop(key, None)
            if ack is None:
                self._ack_signs[key] = record
                return
            t_req, t_acc, orig_sender = ack
            self._register(mid, Tracked("acknowledgement", sender, (orig_sender,), t_req, t_acc, (t0, t1)))
            return
        msg = self.messages.get(mid)
        if msg is None:
            self._orphans.setdefault(mid, []).append((time.time(), record))
        elif msg.sign is None:
            msg.sign = (t0, t1)

    def _on_commit(self, mid: str, msg: Tracked, record: list[Any]) -> None:
        _, _, recipient, _, fetched, verified, commit = record
        if recipient not in msg.recipients or recipient in msg.done:
            return
        msg.done[recipient] = (fetched, verified, commit)
        self.committed += 1
        latency = commit - msg.t_req
        sec = self.series.at(commit)
        sec.commits += 1
        sec.latencies.append(latency)
        self._recent.append((commit, latency))
        if msg.op in ACKABLE and recipient in self.ncb_ids:
            self.ackable[recipient].append(mid)

    def purge_orphans(self) -> None:
        cutoff = time.time() - ORPHAN_TTL_S
        for mid in [m for m, recs in self._orphans.items() if recs[-1][0] < cutoff]:
            self.untraced_records += len(self._orphans.pop(mid))
        self.spans.purge(cutoff)

    # -- views -----------------------------------------------------------------------------------

    def recent(self, window_s: float = 2.0) -> tuple[float, float, float, float]:
        """(operations offered per second, commits per second, p50 s, p99 s) over the last window."""
        now = time.time()
        while self._recent and self._recent[0][0] < now - window_s:
            self._recent.popleft()
        while self._offered and self._offered[0] < now - window_s:
            self._offered.popleft()
        lat = sorted(x[1] for x in self._recent)
        return len(self._offered) / window_s, len(lat) / window_s, percentile(lat, 50), percentile(lat, 99)

    def pairs(self) -> int:
        return self.expected

    def stage_summary(self, op: str | None = None) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """(end-to-end, per stage, API response time) summaries in ms, from the traced deliveries (of one op)."""
        e2e, api = array("d"), array("d")
        stages: dict[str, array[float]] = {s: array("d") for s in STAGES}
        for msg in self.messages.values():
            if op is not None and msg.op != op:
                continue
            api.append(msg.t_acc - msg.t_req)
            for recipient, (fetched, v1, commit) in msg.done.items():
                e2e.append(commit - msg.t_req)
                pub = msg.pub.get(recipient)
                if msg.sign is None or pub is None:
                    continue
                s0, s1 = msg.sign
                for name, value in zip(
                    STAGES, (s0 - msg.t_req, s1 - s0, pub - s1, fetched - pub, v1 - fetched, commit - v1), strict=True
                ):
                    stages[name].append(max(0.0, value))
        return summary_ms(e2e), {k: summary_ms(v) for k, v in stages.items()}, summary_ms(api)

    def by_op(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        lat: dict[str, array[float]] = collections.defaultdict(lambda: array("d"))
        counts: collections.Counter[str] = collections.Counter()
        pairs: collections.Counter[str] = collections.Counter()
        for msg in self.messages.values():
            counts[msg.op] += 1
            pairs[msg.op] += len(msg.recipients)
            for _, _, commit in msg.done.values():
                lat[msg.op].append(commit - msg.t_req)
        for op in counts:
            out[op] = {"messages": counts[op], "deliveries": pairs[op], "latency_ms": summary_ms(lat[op])}
        return out
