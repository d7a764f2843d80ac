"""Stage `accept` of a message: the sender's HTTP request, from its arrival to the 202.

A pure ASGI middleware (the route runs in the same task, so the span is the current one when
`compose` signs, and the envelopes' traces start here). Every POST is timed, and counted only
when it is answered 202: in this API, 202 means "signed, stored and queued for sending"; other
answers leave the span unended, so it is never exported. The ids the request composed
(`messaging/accept.py`) are named on the span: `mesh.message_id` (the first), and for a batch
`mesh.message_ids` (all); `http.route` is the matched route's template.
"""

from __future__ import annotations

import time

from opentelemetry import context as otel_context
from opentelemetry.trace import Span, set_span_in_context
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interpol_mesh.messaging import OfficeContext
from interpol_mesh.messaging.accept import accepted_ids
from interpol_mesh.observability.stages import fault


class AcceptStage:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: OfficeContext | None = getattr(scope["app"].state, "ctx", None) if scope["type"] == "http" else None
        if ctx is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        stages = ctx.stages
        start, status = time.time(), 0

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        if not stages.tracing:
            await self.app(scope, receive, sent)
            if status == 202:
                stages.finish("accept", None, start, time.time())
            return
        span = stages.begin("accept", None)
        ids: list[str] = []
        ids_token = accepted_ids.set(ids)
        ctx_token = otel_context.attach(set_span_in_context(span)) if span is not None else None
        try:
            await self.app(scope, receive, sent)
        finally:
            if ctx_token is not None:
                otel_context.detach(ctx_token)
            accepted_ids.reset(ids_token)
        if status == 202:
            try:
                _name(span, scope, ids)
            except Exception:
                fault("accept attributes")
            stages.finish("accept", span, start, time.time())


def _name(span: Span | None, scope: Scope, ids: list[str]) -> None:
    """The span's route and ids, known once the request was routed and composed. `http.route` is the
    matched template (`/v1/cases/{case_id}/acknowledge`), never the raw path with its ids in it."""
    if span is None:
        return
    route = getattr(scope.get("route"), "path", None)
    if isinstance(route, str):
        span.set_attribute("http.route", route[:200])
    if ids:
        span.set_attribute("mesh.message_id", ids[0])
        if len(ids) > 1:
            span.set_attribute("mesh.message_ids", ids)
