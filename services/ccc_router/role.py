"""The CCC role: receives urgent traffic and hit reports; dispatch and escalation come with issue 4."""

from __future__ import annotations

from interpol_mesh.app.exchange_routes import router as exchange_router
from interpol_mesh.messaging import OfficeRole


def build_role() -> OfficeRole:
    return OfficeRole(
        name="ccc_router",
        description="Command and Coordination Centre: answers member countries 24/7 in English, Arabic, Spanish and French.",
        routers=[exchange_router],
    )
