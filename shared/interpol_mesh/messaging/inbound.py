"""The office's inbox consumer: verify, commit a whole batch in one transaction, then ack.

Order of work for each fetched batch:
1. verify every envelope (CPU only, no database);
2. one unit of work (`OfficeContext.transaction()`): store accepted messages with the key
   directory version that verified them and run the role's handlers, quarantine rejected ones
   with their reason, send `delivered` receipts, audit all of it;
3. only after the commit, ack each message.

A database outage holds the batch (acks are delayed with in-progress signals) until the
commit succeeds, so nothing is lost; a handler failure falls back to one transaction per
message and, after MAX_ATTEMPTS deliveries, quarantines that message alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import sqlalchemy as sa
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError
from opentelemetry.context import Context
from opentelemetry.trace import set_span_in_context
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.audit import AuditEvent
from interpol_mesh.bus import BatchPuller, subjects
from interpol_mesh.bus.puller import ConsumerGone, PullUnavailable
from interpol_mesh.directory import office_of_subject_token
from interpol_mesh.envelope import Rejected, Verified, digest_of, open_envelope
from interpol_mesh.messages import Receipt, payload_type
from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.messaging.receipt_checks import refused_receipts
from interpol_mesh.messaging.receipts import receipt_for
from interpol_mesh.messaging.unit_of_work import UnitOfWork
from interpol_mesh.observability.labels import SIGNATURE_REASONS
from interpol_mesh.observability.stages import fault
from interpol_mesh.observability.tracing import context_from, link_to
from interpol_mesh.storage import database_away, tables

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
NAK_BACKOFF_S = (1.0, 5.0, 15.0, 30.0, 60.0)
DB_RETRY_S = 1.0
# Pause after a failed fetch, growing to the last value: short enough that delivery resumes within
# a second or two of a leader election or a reconnect, never a tight loop against a dead server.
FETCH_BACKOFF_S = (0.1, 0.25, 0.5, 1.0, 2.0)
KEY_HOLD_S = 2.0  # a message with an unknown key comes back this soon while the directory is unreadable
# Input that is not an envelope at all is no evidence of anything: the quarantine keeps its first
# QUARANTINE_PREFIX_BYTES (enough to see what it was) with the size and digest of the whole, so junk
# cannot fill the database. Anything that parsed as an envelope is kept whole, as evidence.
QUARANTINE_PREFIX_BYTES = 16 * 1024
UNREADABLE = frozenset({"malformed", "oversized"})


@dataclass
class Decision:
    msg: Msg
    verified: Verified | None
    rejected: Rejected | None
    sender_token: str | None
    stream_seq: int | None
    kind: str = "unknown"  # from the verified header; "unknown" when it never got that far
    turn: float = 0.0  # wall clock: this envelope's turn (end of `deliver`, start of `verify`)
    verified_at: float = 0.0  # wall clock: its checks done (end of `verify`)
    # The span of this envelope's `deliver` (tracing on only): the parent of its verify, commit and receipt.
    trace: Context | None = None
    about: str | None = None  # a refused receipt: the message of ours it named (quarantine `about_message_id`)

    def refused(self, rejected: Rejected, about: str | None = None) -> Decision:
        """This delivery refused after all (a replay, a mismatched receipt, a failed handler)."""
        return Decision(self.msg, None, rejected, self.sender_token, self.stream_seq, self.kind,
                        self.turn, self.verified_at, self.trace, about)  # fmt: skip


def _unknown_key(decision: Decision) -> bool:
    return decision.rejected is not None and decision.rejected.reason == "unknown-key"


def _stored_at(msg: Msg) -> datetime | None:
    """When the server stored the message (JetStream metadata), independent of the sender's claim."""
    try:
        ts = msg.metadata.timestamp
    except Exception:
        return None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


class InboxConsumer:
    def __init__(self, ctx: OfficeContext) -> None:
        self.ctx = ctx
        self.running = False
        self.stopping = False
        self.last_error: str | None = None
        self.fetch_error: str | None = None  # the last fetch failed with this (cleared by one that works)
        self.consumer_missing: str | None = None  # the durable consumer was found missing
        self.counts: Counter[str] = Counter()

    def stop(self) -> None:
        self.stopping = True

    async def run(self) -> None:
        """Pull, handle, repeat; never ends before `stop()`, whatever the bus does.

        A failed fetch (bus away, a 503 during a leader election, the consumer gone) is recorded
        for /readyz and retried after FETCH_BACKOFF_S (growing, bounded, reset by the first
        fetch that works). After every reconnect, and whenever nothing answers for the consumer,
        `consumer_info` tells whether the durable consumer still exists: a missing one is
        reported, never recreated (offices may not; the admin provisions). Messages are acked
        only after their commit (`handle`), so an error anywhere here leaves them to redelivery.
        """
        ctx = self.ctx
        puller = BatchPuller(
            ctx.nc,
            ctx.streams.inbox_stream(ctx.office.id),
            subjects.consumer_name(ctx.office.id),
            status=ctx.bus_status,
        )
        await puller.start()
        self.running = True
        failures = 0
        seen_reconnects = ctx.bus_status.reconnects
        try:
            while not self.stopping:
                if ctx.bus_status.reconnects != seen_reconnects:
                    seen_reconnects = ctx.bus_status.reconnects
                    await self._check_consumer(puller)
                try:
                    batch = await puller.next_batch(idle_wait=5.0)  # a long poll returns at the first message
                except Exception as exc:  # bus away, server restarting, leader election: keep trying
                    self.fetch_error = self.last_error = f"fetch: {type(exc).__name__}: {exc}"
                    self.counts["fetch-errors"] += 1
                    if isinstance(exc, PullUnavailable | ConsumerGone):
                        await self._check_consumer(puller)
                    await asyncio.sleep(FETCH_BACKOFF_S[min(failures, len(FETCH_BACKOFF_S) - 1)])
                    failures += 1
                    continue
                failures = 0
                self.fetch_error = None
                if puller.answered:
                    self.consumer_missing = None
                if batch:
                    try:
                        await self.handle(batch)
                    except Exception as exc:  # never let one batch stop the inbox; unacked ones come back
                        self.last_error = f"batch: {type(exc).__name__}: {exc}"
                        log.exception("batch handling failed; continuing")
        finally:
            self.running = False
            await puller.stop()

    async def _check_consumer(self, puller: BatchPuller) -> None:
        """Record whether the durable consumer exists; an unanswered question changes nothing."""
        try:
            await self.ctx.js.consumer_info(puller.stream, puller.consumer, timeout=2.0)
        except NotFoundError:
            if self.consumer_missing is None:
                log.error("inbox consumer missing; the admin must provision it", extra={"consumer": puller.consumer})
            self.consumer_missing = f"consumer {puller.consumer} on stream {puller.stream} does not exist"
            return
        except Exception:  # no answer (election, bus away): the next fetch tells more
            return
        self.consumer_missing = None

    # -- classification ------------------------------------------------------------------

    def _decide(self, msg: Msg, now: datetime) -> Decision:
        """Verify one envelope, noting when its turn came and when its checks were done."""
        turn = time.time()
        decision = self._verify(msg, now)
        decision.turn, decision.verified_at = turn, time.time()
        return decision

    def _observe_deliveries(self, decisions: list[Decision], fetched: float) -> None:
        """Stages `deliver` (batch fetched -> its turn) and `verify` (if it passed) of the final
        decisions, once each (a message re-verified after a key-directory refresh included).

        One trace shape: `deliver` continues the sender's trace from the NATS headers when the
        envelope passed verification, else starts a trace of its own; `verify`, `commit` and the
        `delivered` receipt are always children of that `deliver`. A refused envelope's claimed
        context is never its parent (anyone can write any trace id in a header): its `deliver` is a
        root with a span link to the context it claimed.
        """
        stages = self.ctx.stages
        for d in decisions:
            try:
                attributes = None
                parent, links = None, []
                if stages.tracing:
                    claimed = context_from(d.msg.headers)
                    if d.verified is not None:
                        parent = claimed
                    else:
                        links = link_to(claimed)
                    v, r = d.verified, d.rejected
                    mid = v.header.message_id if v is not None else r.message_id if r is not None else None
                    attributes = {"mesh.recipient": self.ctx.office.id, "mesh.kind": d.kind}
                    if mid:
                        attributes["mesh.message_id"] = mid
                deliver = stages.record("deliver", fetched, d.turn, parent, attributes, links)
                d.trace = set_span_in_context(deliver) if deliver is not None else None
                if d.verified is not None:
                    stages.record("verify", d.turn, d.verified_at, d.trace, attributes)
            except Exception:
                fault("deliver/verify")

    def _verify(self, msg: Msg, now: datetime) -> Decision:
        token = subjects.sender_token_of(msg.subject)
        try:
            seq: int | None = msg.metadata.sequence.stream
        except Exception:
            seq = None
        sender = self._sender_id(token)
        try:
            if sender is None:
                raise Rejected("header-mismatch", f"subject {msg.subject[:120]} names no known sender")
            verified = open_envelope(
                msg.data,
                subject_sender=sender,
                recipient=self.ctx.office.id,
                keys=self.ctx.keyring.current,
                offices=self.ctx.directory.offices,
                now=now,
                stored_at=_stored_at(msg),
            )
            kind = verified.header.kind
            if not subjects.kind_fits(kind, msg.subject):  # step 15: a search is never on an inbox subject
                rejected = Rejected(
                    "header-mismatch",
                    f"{kind} may not travel on {msg.subject[:120]}",
                    message_id=verified.header.message_id,
                )
                return Decision(msg, None, rejected, token, seq, kind)
            return Decision(msg, verified, None, token, seq, kind)
        except Rejected as rejected:
            return Decision(msg, None, rejected, token, seq)
        except Exception as exc:  # anything the checks did not foresee is refused, never fatal
            return Decision(msg, None, Rejected("malformed", f"unreadable envelope: {type(exc).__name__}"), token, seq)

    def _sender_id(self, token: str | None) -> str | None:
        if token is None:
            return None
        return office_of_subject_token(token, self.ctx.directory.offices)

    # -- the batch -----------------------------------------------------------------------

    async def handle(self, msgs: list[Msg]) -> None:
        fetched = time.time()
        self.ctx.metrics.batch_size.observe(len(msgs))
        now = self.ctx.clock.now()
        decisions = [self._decide(m, now) for m in msgs]
        # A key rotated a moment ago may be in a directory we have not received yet:
        # read the latest from the bus once before calling the key unknown.
        if any(_unknown_key(d) for d in decisions):
            refreshed = await self.ctx.keyring.refresh(self.ctx.js)
            if refreshed != "unreachable":
                # Also when "current": the subscription may have adopted a newer directory meanwhile.
                decisions = [self._reverified(d, now) if _unknown_key(d) else d for d in decisions]
            else:
                decisions = await self._hold_unknown_keys(decisions)  # held ones come back: observed then
                if not decisions:
                    return
        self._observe_deliveries(decisions, fetched)
        while True:
            try:
                async with self.ctx.transaction() as uow:
                    await self._commit(uow, decisions)
                self.ctx.database_error = None
                break
            except Exception as exc:
                if database_away(exc):
                    self.ctx.database_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                    log.warning("database unavailable; holding batch", extra={"size": len(msgs)})
                    await asyncio.gather(*(d.msg.in_progress() for d in decisions), return_exceptions=True)
                    await asyncio.sleep(DB_RETRY_S)
                    continue
                log.exception("batch failed; retrying message by message")
                await self._one_by_one(decisions)
                return
        await asyncio.gather(*(d.msg.ack() for d in decisions), return_exceptions=True)

    def _reverified(self, first: Decision, now: datetime) -> Decision:
        """`first` verified again with the refreshed key directory; its turn stays the first one."""
        decision = self._verify(first.msg, now)
        decision.turn, decision.verified_at = first.turn, time.time()
        return decision

    async def _hold_unknown_keys(self, decisions: list[Decision]) -> list[Decision]:
        """Without the latest key directory, "unknown key" may only mean "not heard of yet": such
        messages go back to the server (nak with a delay) instead of into quarantine, and the rest
        of the batch goes on."""
        held = [d for d in decisions if _unknown_key(d)]
        self.counts["held:unknown-key"] += len(held)
        self.last_error = "key directory unreadable: messages signed with an unknown key are held"
        log.warning("key directory unreadable; holding messages with an unknown key", extra={"size": len(held)})
        await asyncio.gather(*(d.msg.nak(delay=KEY_HOLD_S) for d in held if d.msg.reply), return_exceptions=True)
        return [d for d in decisions if not _unknown_key(d)]

    async def _one_by_one(self, decisions: list[Decision]) -> None:
        for decision in decisions:
            try:
                async with self.ctx.transaction() as uow:
                    await self._commit(uow, [decision])
            except Exception as exc:
                if database_away(exc):
                    # Leave it unacked: it is redelivered after ack_wait, when the DB may be back.
                    self.ctx.database_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                    continue
                await self._failed(decision, exc)
                continue
            await decision.msg.ack()

    async def _failed(self, decision: Decision, exc: Exception) -> None:
        attempts = decision.msg.metadata.num_delivered if decision.msg.reply else MAX_ATTEMPTS
        self.last_error = f"processing: {type(exc).__name__}: {exc}"
        try:
            await self._give_up_or_retry(decision, exc, attempts)
        except Exception:  # ack/nak or the quarantine write failed: it is redelivered after ack_wait
            log.exception("could not settle a failed message; it will be redelivered")

    async def _give_up_or_retry(self, decision: Decision, exc: Exception, attempts: int) -> None:
        if attempts >= MAX_ATTEMPTS:
            rejected = Rejected(
                "processing-failed", f"{type(exc).__name__}: {str(exc)[:500]} after {attempts} attempts"
            )
            failed = decision.refused(rejected)
            if decision.verified is not None:
                rejected.message_id = decision.verified.header.message_id
            async with self.ctx.transaction() as uow:
                await self._commit(uow, [failed])
            await decision.msg.ack()
        else:
            await decision.msg.nak(delay=NAK_BACKOFF_S[min(attempts, len(NAK_BACKOFF_S)) - 1])

    async def _commit(self, uow: UnitOfWork, decisions: list[Decision]) -> list[str]:
        """Store what is accepted, quarantine what is refused; the ids stored, once this commits."""
        conn = uow.conn
        ids = [d.verified.header.message_id for d in decisions if d.verified is not None]
        known: dict[str, int | None] = {}
        if ids:
            rows = await conn.execute(
                sa.select(tables.inbox.c.message_id, tables.inbox.c.stream_seq).where(
                    tables.inbox.c.message_id.in_(ids)
                )
            )
            known = {r.message_id: r.stream_seq for r in rows}
        now = self.ctx.clock.now()
        accepted: list[tuple[Verified, Decision]] = []
        rejected: list[Decision] = []
        for d in decisions:
            v = d.verified
            if v is None:
                rejected.append(d)
                continue
            mid = v.header.message_id
            if mid not in known:
                known[mid] = d.stream_seq
                accepted.append((v, d))
            elif known[mid] == d.stream_seq and d.stream_seq is not None:
                self.counts["redelivered"] += 1  # our own earlier commit: ack, nothing else
            else:
                rejected.append(d.refused(Rejected("replay", f"message {mid} already delivered", message_id=mid)))
        # A receipt that does not match what was sent to its signer is refused before it changes anything.
        refused = await refused_receipts(conn, [v for v, _ in accepted if v.header.kind == "receipt"], now)
        rejected += [
            d.refused(refused[v.header.message_id], about=getattr(v.body, "for_message_id", None))
            for v, d in accepted
            if v.header.message_id in refused
        ]
        stored = [(v, d) for v, d in accepted if v.header.message_id not in refused]
        await self._accept(uow, stored, now)
        await self._quarantine(uow, rejected, now)
        uow.after_commit(partial(self._observe, uow, stored, rejected))
        return [v.header.message_id for v, _ in stored]

    def _observe(self, uow: UnitOfWork, stored: list[tuple[Verified, Decision]], rejected: list[Decision]) -> None:
        """Count what a committed transaction stored (stage `commit`) and quarantined; never raises
        (the batch has committed: a fault here must not leave its messages unacked)."""
        try:
            self._count(uow, stored, rejected)
        except Exception:
            fault("inbox observe")

    def _count(self, uow: UnitOfWork, stored: list[tuple[Verified, Decision]], rejected: list[Decision]) -> None:
        m, stages, at = self.ctx.metrics, self.ctx.stages, uow.committed_at
        for v, d in stored:
            h = v.header
            m.messages_received.labels(h.kind).inc()
            m.send_to_commit.labels(h.kind).observe(max(0.0, at - h.created_at.timestamp()))
            if isinstance(v.body, Receipt):
                m.receipts_received.labels(v.body.receipt_type).inc()
            attributes = None
            if stages.tracing:
                attributes = {
                    "mesh.message_id": h.message_id,
                    "mesh.recipient": self.ctx.office.id,
                    "mesh.kind": h.kind,
                }
            stages.record("commit", uow.began, at, d.trace, attributes)
        for d in rejected:
            reason = d.rejected.reason if d.rejected is not None else "unknown"
            m.messages_quarantined.labels(d.kind, reason).inc()
            if reason in SIGNATURE_REASONS:
                m.signature_failures.labels(reason).inc()

    async def _accept(self, uow: UnitOfWork, accepted: list[tuple[Verified, Decision]], now: datetime) -> None:
        """Store a batch with one statement per table; receipts out, receipts in, then role handlers."""
        if not accepted:
            return
        rows, receipts_in, receipts_out = [], [], []
        for v, d in accepted:
            h, stream_seq = v.header, d.stream_seq
            body = v.body.model_dump(mode="json")
            rows.append(
                {
                    "message_id": h.message_id, "sender": h.sender, "kind": h.kind, "payload_type": payload_type(h.kind),
                    "notice_type": body.get("notice_type"), "language": h.language, "priority": h.priority,
                    "correlation_id": h.correlation_id, "created_at": h.created_at, "expires_at": h.expires_at,
                    "received_at": now, "key_id": v.key_id, "directory_version": v.directory_version,
                    "ignored_fields": list(v.ignored_fields) or None,
                    "digest": v.digest, "stream_seq": stream_seq, "envelope": v.raw, "body": body,
                    "acknowledged_at": None,
                }
            )  # fmt: skip
            uow.audit(
                AuditEvent(event="envelope-received", result="accepted", message_id=h.message_id, digest=v.digest,
                           sender=h.sender, recipients=list(h.recipients), at=now,
                           detail=f"{h.kind} key={v.key_id} directory=v{v.directory_version}"),
            )  # fmt: skip
            if h.kind == "receipt":
                receipts_in.append(v)
            else:
                receipts_out.append(
                    receipt_for(
                        self.ctx,
                        "delivered",
                        to=h.sender,
                        message_id=h.message_id,
                        digest=v.digest,
                        at=now,
                        trace=d.trace,
                    )
                )
        await uow.conn.execute(tables.inbox.insert(), rows)
        self.counts["accepted"] += len(rows)
        await apply_receipts(uow.conn, receipts_in)
        await uow.send(*receipts_out)
        for v, _ in accepted:
            handler = self.ctx.role.handlers.get(v.header.kind)
            if handler is not None:
                await handler(uow, v)

    async def _quarantine(self, uow: UnitOfWork, rejected: list[Decision], now: datetime) -> None:
        if not rejected:
            return
        rows = []
        for d in rejected:
            r = d.rejected
            assert r is not None
            self.counts[f"rejected:{r.reason}"] += 1
            raw, digest = d.msg.data, digest_of(d.msg.data)
            uow.audit(
                AuditEvent(event="rejected", result=r.reason, message_id=r.message_id, digest=digest,
                           sender=d.sender_token, at=now, detail=f"{d.msg.subject}: {r.detail}"),
            )  # fmt: skip
            log.warning("message rejected", extra={"reason": r.reason, "detail": r.detail, "subject": d.msg.subject})
            rows.append(
                {
                    "received_at": now, "subject": d.msg.subject[:200], "reason": r.reason, "detail": r.detail[:2000],
                    "claimed_sender": (d.sender_token or "")[:40] or None, "message_id": r.message_id,
                    "stream_seq": d.stream_seq, "deliveries": d.msg.metadata.num_delivered if d.msg.reply else 1,
                    "raw": raw[:QUARANTINE_PREFIX_BYTES] if r.reason in UNREADABLE else raw,
                    "raw_size": len(raw), "raw_sha256": digest, "about_message_id": d.about,
                }
            )  # fmt: skip
        await uow.conn.execute(tables.quarantine.insert(), rows)


async def apply_receipts(conn: AsyncConnection, receipts: list[Verified]) -> None:
    """Record delivered/acknowledged, per recipient, on the messages the receipts name.

    Only receipts that passed `refused_receipts` get here: each matches a delivery of ours to its signer.
    """
    d = tables.delivery
    delivered: list[dict[str, object]] = []
    acknowledged: list[dict[str, object]] = []
    for v in receipts:
        assert isinstance(v.body, Receipt)
        params = {"mid": v.body.for_message_id, "rcpt": v.header.sender, "at": v.body.at}
        (delivered if v.body.receipt_type == "delivered" else acknowledged).append(params)
    match = (d.c.message_id == sa.bindparam("mid")) & (d.c.recipient == sa.bindparam("rcpt"))
    if delivered:
        stmt = d.update().where(match, d.c.delivered_at.is_(None)).values(delivered_at=sa.bindparam("at"))
        await conn.execute(stmt, delivered)
    if acknowledged:
        stmt = (
            d.update()
            .where(match, d.c.acknowledged_at.is_(None))
            .values(
                acknowledged_at=sa.bindparam("at"), delivered_at=sa.func.coalesce(d.c.delivered_at, sa.bindparam("at"))
            )
        )
        await conn.execute(stmt, acknowledged)
