"""One unit of work: a write transaction with the audit events, outbox rows and after-commit work it carries.

Everything an office records as a fact goes through one of these (`OfficeContext.transaction()`):
- queries run on `uow.conn`;
- `uow.audit(event)` collects audit events, chained last, just before the commit, so the audit
  head lock is held for the shortest time;
- `await uow.send(*outgoing)` is the one way to send: it writes the signed envelopes with their
  delivery and outbox rows (one multi-row statement per table) and audits each as sent;
- `uow.after_commit(fn)` runs `fn` once the transaction has committed.

After the commit the outbox rows go to the relay (published from memory) and the callbacks run;
on a rollback or an exception nothing of it is kept: no audit event, no hand-off, no callback.
The state lives on this object, not on the pooled connection, so nothing leaks to the next user.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.audit import AuditEvent, append_events
from interpol_mesh.bus import subjects
from interpol_mesh.messages import payload_type
from interpol_mesh.messaging.relay import OutboxRow
from interpol_mesh.observability.stages import fault
from interpol_mesh.observability.tracing import stored_context
from interpol_mesh.storage import tables, writing

if TYPE_CHECKING:
    from interpol_mesh.messaging.context import OfficeContext
    from interpol_mesh.messaging.outbound import Outgoing

log = logging.getLogger(__name__)


class UnitOfWork:
    """The open transaction of `OfficeContext.transaction()`; see the module docstring."""

    def __init__(self, ctx: OfficeContext, conn: AsyncConnection) -> None:
        self.ctx = ctx
        self.conn = conn
        self._events: list[AuditEvent] = []
        self._outbox: list[OutboxRow] = []
        self._after: list[Callable[[], None]] = []
        self._sent: list[Outgoing] = []
        self._open = True
        self.began = time.time()  # wall clock: the start of the `store` and `commit` stages
        self.committed_at = 0.0

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("this unit of work has ended; open a new ctx.transaction()")

    def audit(self, event: AuditEvent) -> None:
        """Chain `event` into the audit trail if, and only if, this unit of work commits."""
        self._check_open()
        self._events.append(event)

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` once this unit of work has committed (never after a rollback)."""
        self._check_open()
        self._after.append(fn)

    @property
    def outbox(self) -> tuple[OutboxRow, ...]:
        """The outbox rows written so far, handed to the relay after the commit."""
        return tuple(self._outbox)

    async def send(self, *outgoing: Outgoing) -> None:
        """Write signed envelopes with their delivery and outbox rows: one multi-row statement per table.

        A batch of receipts from the inbox consumer costs three statements, not three per message.
        """
        self._check_open()
        if not outgoing:
            return
        sent_rows, delivery_rows, outbox_rows = [], [], []
        written: list[OutboxRow] = []
        events: list[AuditEvent] = []
        for out in outgoing:
            h, mid = out.header, out.header.message_id
            sent_rows.append(
                {
                    "message_id": mid,
                    "kind": h.kind,
                    "payload_type": payload_type(h.kind),
                    "recipients": list(h.recipients),
                    "correlation_id": h.correlation_id,
                    "created_at": h.created_at,
                    "digest": out.sealed.digest,
                    "envelope": out.sealed.data,
                }
            )
            if out.track_delivery:
                delivery_rows += [{"message_id": mid, "recipient": r} for r in h.recipients]
            trace = _stored_trace(out)
            for r in h.recipients:
                # A random part so no other office can pre-empt this id and have the server drop the
                # real copy as a duplicate; retries reuse the stored row, so dedupe still works.
                row = OutboxRow(subjects.for_envelope(h.kind, h.sender, r), f"{mid}:{r}:{secrets.token_hex(8)}",
                                out.sealed.data, h.kind, trace)  # fmt: skip
                written.append(row)
                outbox_rows.append({"message_id": mid, "subject": row.subject, "dedupe_id": row.dedupe_id,
                                    "data": row.data, "created_at": h.created_at, "kind": h.kind,
                                    "trace_context": trace})  # fmt: skip
            events.append(
                AuditEvent(event="envelope-sent", result="sent", message_id=mid, digest=out.sealed.digest,
                           sender=h.sender, recipients=list(h.recipients), at=h.created_at, detail=h.kind),
            )  # fmt: skip
        await self.conn.execute(tables.sent.insert(), sent_rows)
        if delivery_rows:
            await self.conn.execute(tables.delivery.insert(), delivery_rows)
        await self.conn.execute(tables.outbox.insert(), outbox_rows)
        # Noted only once the rows are written: a caller that survives a failed insert (a savepoint)
        # must not commit "sent" records for envelopes that are not there.
        self._events += events
        self._outbox += written
        self._sent += outgoing

    def _committed(self) -> None:
        ctx = self.ctx
        self.committed_at = time.time()
        self._observe()
        if self._outbox and ctx.relay is not None and ctx.settings.relay_enabled:
            ctx.relay.handoff(self._outbox)
        for fn in self._after:
            try:
                fn()
            except Exception:  # the transaction has committed: a failing callback cannot undo it
                log.exception("after-commit callback failed")

    def _observe(self) -> None:
        """Count what this commit made true: envelopes sent (stage `store`), audit events appended.

        After the commit, so it must never raise: a fault here would answer 500 for a stored
        message and skip the relay's hand-off (`stages.fault` logs it once)."""
        try:
            self._count()
        except Exception:
            fault("unit of work observe")

    def _count(self) -> None:
        metrics, stages = self.ctx.metrics, self.ctx.stages
        if self._events:
            metrics.audit_appends.inc(len(self._events))
        for out in self._sent:
            h = out.header
            metrics.messages_sent.labels(h.kind).inc()
            attributes = {"mesh.message_id": h.message_id, "mesh.kind": h.kind} if stages.tracing else None
            stages.record("store", self.began, self.committed_at, out.trace, attributes)


def _stored_trace(out: Outgoing) -> str | None:
    """The outbox row's trace context; none if it cannot be built (a message is never refused for it)."""
    try:
        return stored_context(out.trace, **({"receipt_type": out.receipt_type} if out.receipt_type else {}))
    except Exception:
        fault("outbox trace context")
        return None


@asynccontextmanager
async def unit_of_work(ctx: OfficeContext) -> AsyncIterator[UnitOfWork]:
    """Open a write transaction (`storage.writing`: on SQLite one per office at a time, never nested)."""
    async with writing(ctx.engine) as conn:
        uow = UnitOfWork(ctx, conn)
        try:
            yield uow
            await append_events(conn, ctx.clock.now(), uow._events)
        finally:
            uow._open = False
    uow._committed()
