"""Loss and duplicates, decided from the recipients' own databases (never from the sender's view).

A delivery (message, recipient) counts as committed only if the recipient's `inbox` holds the
message id: the inbox consumer writes a row only after the envelope verified (signature, key,
sender, recipient, expiry, schema) and in the same transaction as everything the message caused.

- lost: a delivery the sender accepted (HTTP 202/200) that is not in the recipient's inbox. An
  envelope the recipient refused is lost too, and its quarantine reason is counted.
- duplicates: the same message delivered again as new at the same recipient: a second inbox row
  (impossible while `inbox.message_id` is the primary key; counted anyway) or a `replay` in the
  recipient's quarantine (the same id under another JetStream sequence: a publish that escaped
  JetStream's dedupe window). A redelivery of the same sequence after a crash is acked silently
  by design and is not a duplicate.
- receipts: each committed delivery must also have come back to the sender as a signed
  `delivered` receipt (`delivery.delivered_at`).
- signatures: a sample of committed envelopes is verified again here, with the senders' keys.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from interpol_mesh.crypto import pae
from interpol_mesh.crypto.keys import read_private_key
from interpol_mesh.crypto.provisioning import key_file
from interpol_mesh.storage import make_engine, tables
from interpol_offices.loadtest.meshrun import MeshView
from interpol_offices.loadtest.stats import summary_ms
from interpol_offices.loadtest.tracker import Tracker

SLACK = timedelta(minutes=2)
VERIFY_SAMPLE = 300


@dataclass
class OfficeRows:
    inbox: list[Any] = field(default_factory=list)
    quarantine: list[Any] = field(default_factory=list)
    delivery: list[Any] = field(default_factory=list)
    envelopes: list[tuple[str, str, bytes]] = field(default_factory=list)


async def _read(view: MeshView, office_id: str, since: datetime, sample: int) -> OfficeRows:
    engine = make_engine(view.office_settings(office_id))
    i, q, d, s = tables.inbox, tables.quarantine, tables.delivery, tables.sent
    rows = OfficeRows()
    try:
        async with engine.connect() as conn:
            rows.inbox = list((await conn.execute(
                sa.select(i.c.message_id, i.c.sender, i.c.kind, i.c.correlation_id, i.c.received_at).where(i.c.received_at >= since)
            )).all())  # fmt: skip
            rows.quarantine = list((await conn.execute(
                sa.select(q.c.reason, q.c.message_id, q.c.claimed_sender).where(q.c.received_at >= since)
            )).all())  # fmt: skip
            rows.delivery = list((await conn.execute(
                sa.select(d.c.message_id, d.c.recipient, d.c.delivered_at, d.c.acknowledged_at)
                .join(s, s.c.message_id == d.c.message_id).where(s.c.created_at >= since)
            )).all())  # fmt: skip
            if sample:
                rows.envelopes = [(r.sender, r.key_id, r.envelope) for r in (await conn.execute(
                    sa.select(i.c.sender, i.c.key_id, i.c.envelope).where(i.c.received_at >= since, i.c.kind != "receipt")
                    .order_by(sa.func.random()).limit(sample)
                )).all()]  # fmt: skip
    finally:
        await engine.dispose()
    return rows


async def read_all(view: MeshView, since_epoch: float, concurrency: int = 8) -> dict[str, OfficeRows]:
    since = datetime.fromtimestamp(since_epoch, UTC) - SLACK
    gate = asyncio.Semaphore(concurrency)
    per_office = max(1, VERIFY_SAMPLE // max(1, len(view.offices)))

    async def one(office_id: str) -> tuple[str, OfficeRows]:
        async with gate:
            return office_id, await _read(view, office_id, since, per_office)

    return dict(await asyncio.gather(*(one(o.id) for o in view.offices)))


def _verify_sample(view: MeshView, rows: dict[str, OfficeRows]) -> dict[str, int]:
    """Re-verify Ed25519 signatures of sampled inbox envelopes with the senders' keys (development keys on disk)."""
    keys: dict[str, Any] = {}
    checked = failed = skipped = 0
    for office_rows in rows.values():
        for sender, key_id, raw in office_rows.envelopes:
            if sender not in keys:
                try:
                    keys[sender] = read_private_key(key_file(view.settings.key_dir, sender))
                except Exception:
                    keys[sender] = None
            signer = keys[sender]
            if signer is None or signer.key_id != key_id:
                skipped += 1  # rotated or not on this machine
                continue
            outer = json.loads(raw)
            payload = base64.b64decode(outer["payload"])
            signature = base64.b64decode(outer["signatures"][0]["sig"])
            try:
                signer._key.verify_key.verify(pae(outer["payloadType"], payload), signature)
                checked += 1
            except Exception:
                failed += 1
    return {"verified": checked, "failed": failed, "skipped": skipped}


def account(tracker: Tracker, rows: dict[str, OfficeRows], view: MeshView) -> dict[str, Any]:
    inbox_ids: dict[str, collections.Counter[str]] = {
        o: collections.Counter(r.message_id for r in v.inbox) for o, v in rows.items()
    }
    receipts: dict[tuple[str, str, str], int] = collections.Counter()  # (office, receipt sender, correlation) -> rows
    for office, v in rows.items():
        for r in v.inbox:
            if r.kind == "receipt":
                receipts[(office, r.sender, r.correlation_id)] += 1
    tracked_at: dict[str, set[str]] = collections.defaultdict(set)
    lost, lost_by_op = 0, collections.Counter[str]()
    lost_sample: list[dict[str, str]] = []
    duplicates = 0
    pairs = 0
    for mid, msg in tracker.messages.items():
        for recipient in msg.recipients:
            pairs += 1
            tracked_at[recipient].add(mid)
            seen = inbox_ids.get(recipient, collections.Counter()).get(mid, 0)
            if seen == 0:
                lost += 1
                lost_by_op[msg.op] += 1
                if len(lost_sample) < 20:
                    lost_sample.append({"message_id": mid, "op": msg.op, "sender": msg.sender, "recipient": recipient})
            duplicates += max(0, seen - 1)
    # Acknowledgements whose receipt id no span gave: find the receipt by sender and correlation.
    for orig_mid, acker, orig_sender in tracker.pending_acks():
        pairs += 1
        if receipts.get((orig_sender, acker, orig_mid), 0) < 2:  # the `delivered` receipt plus the `acknowledged` one
            lost += 1
            lost_by_op["acknowledgement"] += 1
    rejected: collections.Counter[str] = collections.Counter()
    other_quarantine: collections.Counter[str] = collections.Counter()
    for office, v in rows.items():
        for q in v.quarantine:
            if q.message_id and q.message_id in tracked_at.get(office, ()):
                if q.reason == "replay":
                    duplicates += 1
                else:
                    rejected[q.reason] += 1
            else:
                other_quarantine[q.reason] += 1
    # Without spans, the recipients' `received_at` (batch fetched, before verification) bounds the latency.
    fetched: list[float] = []
    if not tracker.traced:
        for v in rows.values():
            for r in v.inbox:
                traced = tracker.messages.get(r.message_id)
                if traced is not None:
                    at = r.received_at if r.received_at.tzinfo else r.received_at.replace(tzinfo=UTC)
                    fetched.append(at.timestamp() - traced.t_req)
    delivered_missing = 0
    delivery = {(r.message_id, r.recipient): r for v in rows.values() for r in v.delivery}
    for mid, msg in tracker.messages.items():
        if msg.op == "acknowledgement":
            continue
        for recipient in msg.recipients:
            row = delivery.get((mid, recipient))
            if inbox_ids.get(recipient, collections.Counter()).get(mid) and (row is None or row.delivered_at is None):
                delivered_missing += 1
    return {
        "deliveries": pairs,
        "committed": pairs - lost,
        "lost": lost,
        "lost_by_operation": dict(lost_by_op),
        "lost_sample": lost_sample,
        "duplicates": duplicates,
        "rejected_by_reason": dict(rejected),
        "quarantined_untracked_by_reason": dict(other_quarantine),
        "delivered_receipts_missing": delivered_missing,
        "signatures_reverified": _verify_sample(view, rows),
        "request_to_fetch_ms": summary_ms(fetched) if fetched else None,
    }
