"""The liaison_office role: the common signed exchange, nothing role-specific yet."""

from __future__ import annotations

from interpol_mesh.app.exchange_routes import router as exchange_router
from interpol_mesh.messaging import OfficeRole


def build_role() -> OfficeRole:
    return OfficeRole(
        name="liaison_office",
        description="Liaison office to an international organisation (AU, EU, UN, UNODC): exchanges signed messages.",
        routers=[exchange_router],
    )
