"""Bounded shutdown steps: stopping an office must finish even when a dependency does not.

`asyncio.wait_for` cancels on timeout and then waits for the cancellation to finish; nats-py's
`drain()` swallows `CancelledError` and goes on to flush and close, so a stuck TLS socket turned
"drain with a 5 s limit" into a wait without end. `within` waits with `asyncio.wait`, which never
waits for a cancellation, and names the step that was abandoned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

log = logging.getLogger(__name__)


async def within(seconds: float, step: Awaitable[Any], what: str) -> bool:
    """Run one shutdown step for at most `seconds`; True when it finished (errors are logged)."""
    task = asyncio.ensure_future(step)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        # It may still end later (drain goes on to flush and close): take its outcome then, quietly.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        log.warning("shutdown step abandoned after %.0f s", seconds, extra={"step": what})
        return False
    if not task.cancelled() and (error := task.exception()) is not None:
        log.warning("shutdown step failed: %s", type(error).__name__, extra={"step": what})
    return True
