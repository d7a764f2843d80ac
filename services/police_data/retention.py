"""GS background: records past their retention end are deleted (and the copies told), on the injected clock."""

from __future__ import annotations

from interpol_mesh.messaging.context import OfficeContext


async def sweep_once(ctx: OfficeContext) -> int:
    """One pass at `ctx.clock.now()`: the number of records deleted."""
    raise NotImplementedError


async def retention_loop(ctx: OfficeContext) -> None:
    raise NotImplementedError
