"""GS background: records past their retention end are deleted, on the injected clock.

The RPD keeps a record no longer than its owner's retention period; a search already ignores a
record past it (`store.search`), so this sweep reclaims the rows, leaves the audit trail, and tells the national copies (`cancel`).
"""

from __future__ import annotations

import asyncio
import logging

from interpol_mesh.audit import AuditEvent
from interpol_mesh.messaging.context import OfficeContext
from interpol_offices.police_data import store
from interpol_offices.police_data.national_copy import expired_change, fan_out

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 60.0
BATCH = 500
SWEEP_SOURCE = "00000000-0000-0000-0000-000000000000"  # no owner's message: the GS's clock removed it


async def sweep_once(ctx: OfficeContext) -> int:
    """One pass at `ctx.clock.now()`: the number of records deleted (at most BATCH, audited one by one)."""
    async with ctx.transaction() as uow:
        removed = await store.remove_expired(uow.conn, ctx.clock.now(), limit=BATCH)
        for applied in removed:
            uow.audit(AuditEvent(event="record-expired", result="removed", sender=ctx.office.id,
                                 detail=f"{applied.record_id} revision {applied.revision}"))  # fmt: skip
            await fan_out(uow, expired_change(applied.record_id), applied, SWEEP_SOURCE)
    return len(removed)


async def retention_loop(ctx: OfficeContext) -> None:
    """Every minute (or at once again while a full batch was removed); a failure is retried next tick."""
    while True:
        removed = 0
        try:
            removed = await sweep_once(ctx)
            if removed:
                log.info("police records past retention removed", extra={"count": removed})
        except Exception as exc:
            log.warning("police retention sweep failed", extra={"error": f"{type(exc).__name__}: {exc}"})
        if removed < BATCH:
            await asyncio.sleep(SWEEP_INTERVAL_S)
