"""The GS role: key directory authority and notice review; exchange like every office."""

from __future__ import annotations

from interpol_mesh.app.exchange_routes import router as exchange_router
from interpol_mesh.messaging import OfficeRole
from interpol_mesh.notices.expiry import expire_notices
from interpol_mesh.notices.routes import router as notices_router
from interpol_offices.general_secretariat.intake import on_notice_request
from interpol_offices.general_secretariat.keys import build_key_router, key_authority
from interpol_offices.general_secretariat.review_routes import router as review_router
from interpol_offices.police_data import MIGRATIONS as POLICE_MIGRATIONS
from interpol_offices.police_data.contributions import on_record_change
from interpol_offices.police_data.find import search_responder
from interpol_offices.police_data.national_copy import check_holders_at_start
from interpol_offices.police_data.retention import retention_loop


def build_role() -> OfficeRole:
    keys = key_authority()
    return OfficeRole(
        name="general_secretariat",
        description="General Secretariat: keeps and signs the key directory, reviews notice requests and publishes notices; holds the police databases and answers searches.",
        routers=[exchange_router, build_key_router(keys), notices_router, review_router],
        handlers={
            "key-rotation": keys.on_rotation,
            "notice-request": on_notice_request,
            "record-change": on_record_change,
        },
        startup=[keys.seed, check_holders_at_start],
        background=[keys.publisher, expire_notices, search_responder, retention_loop],
        migrations=POLICE_MIGRATIONS,  # the police databases (SLTD, SMV, persons) live at the GS
    )
