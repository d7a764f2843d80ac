"""NCB: one online search at the GS, signed both ways, within a deadline.

The answer is believed only if the GS signed it, it names this request's message id and the
SHA-256 of the exact bytes sent: a result for another request (or another office) is useless here.
"""

from __future__ import annotations

from datetime import timedelta

from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from interpol_mesh.bus import subjects
from interpol_mesh.directory import GS_ID
from interpol_mesh.envelope import Rejected, open_envelope
from interpol_mesh.messages.records import SearchRequest, SearchResult
from interpol_mesh.messaging import compose
from interpol_mesh.messaging.context import OfficeContext

DEADLINE_SECONDS = 2.0  # an officer at a border waits no longer; then the national copy, or 503
REQUEST_LIFETIME = timedelta(seconds=30)  # the GS refuses an older request: a replay is short-lived


class SearchUnavailable(Exception):
    """The GS did not answer in time, or its answer did not verify (the reason says which).

    `message_id`: the signed request's, if one was sent (it may have reached the GS: audited).
    """

    def __init__(self, reason: str, message_id: str | None = None) -> None:
        super().__init__(reason)
        self.message_id = message_id


async def search_online(
    ctx: OfficeContext, request: SearchRequest, *, deadline: float = DEADLINE_SECONDS
) -> tuple[str, SearchResult]:
    """The request's message id and the GS's verified result."""
    if not ctx.bus_status.connected:  # before signing: a request that cannot leave costs no signature
        raise SearchUnavailable("the bus is not connected")
    out = compose(
        ctx, kind="search-request", recipients=[GS_ID], body=request, lifetime=REQUEST_LIFETIME,
        track_delivery=False, priority="urgent",
    )  # fmt: skip
    mid = out.header.message_id
    try:
        reply = await ctx.nc.request(subjects.search(ctx.office.id), out.sealed.data, timeout=deadline)
    except NoRespondersError as exc:
        raise SearchUnavailable("no search responder is running at the GS", mid) from exc
    except NatsTimeout as exc:
        raise SearchUnavailable(f"the GS did not answer within {deadline:g} s", mid) from exc
    except NatsError as exc:  # the link dropped mid-request (closed, reconnecting, buffer full)
        raise SearchUnavailable(f"the bus failed the request: {type(exc).__name__}", mid) from exc
    try:
        verified = open_envelope(
            reply.data, subject_sender=GS_ID, recipient=ctx.office.id, keys=ctx.keyring.current,
            offices=ctx.directory.offices, now=ctx.clock.now(),
        )  # fmt: skip
    except Rejected as exc:
        raise SearchUnavailable(f"the GS's answer did not verify: {exc.reason}", mid) from exc
    result = verified.body
    if verified.header.kind != "search-result" or not isinstance(result, SearchResult):
        raise SearchUnavailable(f"the GS answered with a {verified.header.kind}", mid)
    if result.for_message_id != mid or result.request_digest != out.sealed.digest:
        raise SearchUnavailable("the GS's answer is for another request", mid)
    return mid, result
