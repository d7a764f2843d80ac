"""GS: the online (FIND) search responder on `mesh.v1.search.*` (core NATS, queue group `police_data`).

Each request is opened like any envelope (sender from the subject, signature, key times, clock
skew, recipient the GS) and answered only on a reply subject under the sender's own inbox prefix,
which the server lets no other office subscribe to: a replayed request can only ever answer its
own sender. The answer is a `search-result` signed by the GS and bound to the request's bytes by
their digest. Nothing is stored on a stream. A refused request gets no answer at all (the sender
waits out its deadline), and the refusal is logged with its reason, never with the search terms.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from nats.aio.msg import Msg

from interpol_mesh.bus import subjects
from interpol_mesh.directory import office_of_subject_token
from interpol_mesh.envelope import Rejected, open_envelope
from interpol_mesh.messages.records import SearchRequest, SearchResult
from interpol_mesh.messaging import compose
from interpol_mesh.messaging.context import OfficeContext
from interpol_offices.police_data import store

log = logging.getLogger(__name__)

QUEUE = "police_data"
CONCURRENT = 32  # searches answered at once; each holds one read connection for a few milliseconds
RESULT_LIFETIME = timedelta(seconds=30)


class Responder:
    """One subscription; each request is answered in its own task, at most CONCURRENT at a time."""

    def __init__(self, ctx: OfficeContext) -> None:
        self.ctx = ctx
        self.slots = asyncio.Semaphore(CONCURRENT)
        self.tasks: set[asyncio.Task[None]] = set()
        self.answered = 0
        self.refused = 0

    async def on_request(self, msg: Msg) -> None:
        await self.slots.acquire()
        task = asyncio.create_task(self._answer_guarded(msg))
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.slots.release()

    async def _answer_guarded(self, msg: Msg) -> None:
        try:
            await self.answer(msg)
        except Rejected as rejected:
            self.refused += 1
            log.warning("search request on %s refused: %s (%s)", msg.subject[:120], rejected.reason, rejected.detail)
        except Exception:  # never stops the responder
            self.refused += 1
            log.exception("search request on %s failed", msg.subject[:120])

    async def answer(self, msg: Msg) -> None:
        ctx = self.ctx
        token = subjects.sender_token_of(msg.subject)
        sender = office_of_subject_token(token, ctx.directory.offices) if token else None
        if sender is None or subjects.family_of(msg.subject) != "search":
            raise Rejected("header-mismatch", f"subject {msg.subject[:120]} names no known sender")
        now = ctx.clock.now()
        verified = open_envelope(
            msg.data, subject_sender=sender, recipient=ctx.office.id, keys=ctx.keyring.current,
            offices=ctx.directory.offices, now=now,
        )  # fmt: skip
        if verified.header.kind != "search-request":
            raise Rejected("header-mismatch", f"{verified.header.kind} may not travel on {msg.subject[:120]}")
        if not msg.reply or not subjects.is_reply_for(msg.reply, sender):
            raise Rejected("header-mismatch", "the reply subject is not under the sender's own inbox prefix")
        request = verified.body
        assert isinstance(request, SearchRequest)
        office = ctx.directory.offices[sender]
        viewer = store.Viewer(office_id=sender, country=office.country)
        async with ctx.engine.connect() as conn:
            hits = await store.search(conn, request.query, viewer=viewer, purpose=request.purpose, now=now)
        result = SearchResult(
            for_message_id=verified.header.message_id, request_digest=verified.digest, searched_at=now,
            hits=tuple(hits),
        )  # fmt: skip
        out = compose(
            ctx, kind="search-result", recipients=[sender], body=result, lifetime=RESULT_LIFETIME,
            correlation_id=verified.header.message_id, track_delivery=False, priority=verified.header.priority,
        )  # fmt: skip
        await ctx.nc.publish(msg.reply, out.sealed.data)
        self.answered += 1


async def search_responder(ctx: OfficeContext) -> None:
    """Background task of the GS role: subscribe and answer until cancelled."""
    responder = Responder(ctx)
    sub = await ctx.nc.subscribe(subjects.SEARCH_WILDCARD, queue=QUEUE, cb=responder.on_request)
    try:
        await asyncio.Event().wait()
    finally:
        await sub.unsubscribe()
        for task in list(responder.tasks):
            task.cancel()
