"""The NCB role: exchange with other offices, request notices, report hits, hold published notices."""

from __future__ import annotations

from interpol_mesh.app.exchange_routes import router as exchange_router
from interpol_mesh.messaging import OfficeRole


def build_role() -> OfficeRole:
    return OfficeRole(
        name="ncb",
        description="National Central Bureau: sends and receives signed diffusions, messages, notice requests and hit reports.",
        routers=[exchange_router],
    )
