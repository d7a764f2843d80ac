"""Background task: apply the retention period to this office's notices with the office's clock."""

from __future__ import annotations

import asyncio
import logging

from interpol_mesh.messaging import OfficeContext
from interpol_mesh.notices.store import expire_due

log = logging.getLogger(__name__)

EXPIRY_INTERVAL_S = 60.0


async def expire_notices(ctx: OfficeContext) -> None:
    """Every minute, mark published notices past `expires_at` as expired (a no-op query most of the time).

    A database outage is logged and retried at the next tick rather than crashing the task:
    expiry is days-scale, a minute late costs nothing.
    """
    while True:
        try:
            async with ctx.transaction() as uow:
                expired = await expire_due(uow.conn, ctx.clock.now())
            if expired:
                log.info("notices expired", extra={"count": len(expired), "notice_ids": expired[:20]})
        except Exception as exc:
            log.warning("notice expiry check failed", extra={"error": f"{type(exc).__name__}: {exc}"})
        await asyncio.sleep(EXPIRY_INTERVAL_S)
