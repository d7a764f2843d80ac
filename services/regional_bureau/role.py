"""The regional_bureau role: the common signed exchange, nothing role-specific yet."""

from __future__ import annotations

from interpol_mesh.app.exchange_routes import router as exchange_router
from interpol_mesh.messaging import OfficeRole


def build_role() -> OfficeRole:
    return OfficeRole(
        name="regional_bureau",
        description="Regional bureau: coordinates the NCBs of its region and exchanges signed messages with them.",
        routers=[exchange_router],
    )
