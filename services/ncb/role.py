"""The NCB role: exchange with other offices, request notices, report hits, hold published notices."""

from __future__ import annotations

from interpol_mesh.app.exchange_routes import router as exchange_router
from interpol_mesh.messaging import OfficeRole
from interpol_mesh.notices.copies import on_notice_event
from interpol_mesh.notices.expiry import expire_notices
from interpol_mesh.notices.routes import router as notices_router
from interpol_offices.ncb.handlers import on_hit_report, on_message
from interpol_offices.ncb.hit_routes import router as hit_router
from interpol_offices.ncb.request_routes import router as request_router
from interpol_offices.police_data import MIGRATIONS as POLICE_MIGRATIONS
from interpol_offices.police_data.national_copy import on_copy_change
from interpol_offices.police_data.record_routes import router as record_router
from interpol_offices.police_data.search_routes import router as search_router


def build_role() -> OfficeRole:
    return OfficeRole(
        name="ncb",
        description="National Central Bureau: sends and receives signed diffusions, messages, notice requests and hit reports; contributes records to and searches the police databases (online, or its national copy).",
        routers=[exchange_router, request_router, notices_router, hit_router, record_router, search_router],
        handlers={
            "notice-event": on_notice_event,
            "message": on_message,
            "hit-report": on_hit_report,
            "record-change": on_copy_change,  # the GS's changes to this office's national copy, if it keeps one
        },
        background=[expire_notices],
        migrations=POLICE_MIGRATIONS,  # the national copy: the GS's police tables, holding what this office may see
    )
