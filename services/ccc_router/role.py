"""The CCC role: bus intake into cases, language-tagged dispatch, escalation timers, operator console."""

from __future__ import annotations

from pathlib import Path

from interpol_mesh.app.exchange_routes import router as exchange_router
from interpol_mesh.messaging import OfficeContext
from interpol_mesh.notices.copies import on_notice_event
from interpol_mesh.notices.expiry import expire_notices
from interpol_offices.ccc_router import metrics, presence, roster_store
from interpol_offices.ccc_router.intake import on_hit_report, on_message, on_record_hit
from interpol_offices.ccc_router.language import detector
from interpol_offices.ccc_router.presence_routes import router as presence_router
from interpol_offices.ccc_router.routes_cases import router as cases_router
from interpol_offices.ccc_router.routes_roster import router as roster_router
from interpol_offices.ccc_router.runtime import DATA_DIR, CccRole, CccRuntime, runtime_of
from interpol_offices.ccc_router.timers import timer_loop

MIGRATIONS = Path(__file__).with_name("migrations")  # Alembic revisions of the ccc_ tables
DESCRIPTION = (
    "Command and Coordination Centre: answers member countries 24/7 in English, Arabic, Spanish and French.\n\n"
    "**Operators:** press *Authorize* and paste your mesh staff token (`mesh1....`, subject = your operator id; "
    "development tokens are in DATA_DIR/tokens/ccc/), then use *CCC: my work*: "
    "`GET /v1/queue/mine` lists your open cases; acknowledge before the first escalation deadline. "
    "Operators act on their own desk's cases; duty officers and heads of desk on any."
)


async def load_ccc(ctx: OfficeContext) -> None:
    """Start-up: reviewed files, active roster (refused if it has gaps), language detector, metrics."""
    rt = runtime_of(ctx)
    rt.load_config(ctx.directory)
    rt.metrics = metrics.install(ctx.metrics, ctx.engine)  # each start has a fresh office registry
    # Presence needs the roster and the runtime, which metrics.py cannot import: registered here.
    ctx.metrics.add_sampler("ccc-presence", lambda: presence.sample_present(ctx), [rt.metrics.operators_present])
    async with ctx.transaction() as uow:
        active = await roster_store.load_active(uow.conn, ctx, rt)
    rt.set_active(active)
    detector()  # build once now, not on the first message


def build_role(data_dir: Path = DATA_DIR, poll_seconds: float = 1.0) -> CccRole:
    return CccRole(
        name="ccc_router",
        description=DESCRIPTION,
        routers=[cases_router, roster_router, presence_router, exchange_router],
        # Copies of every published notice, so a hit report can be confirmed (hit_check.py).
        handlers={
            "message": on_message,
            "hit-report": on_hit_report,
            "record-hit": on_record_hit,
            "notice-event": on_notice_event,
        },
        startup=[load_ccc],
        background=[timer_loop, expire_notices],
        runtime=CccRuntime(data_dir=data_dir, poll_seconds=poll_seconds),
        migrations=MIGRATIONS,  # the CCC's tables: only the CCC creates them
    )
