"""The GS role: key directory authority and notice review; exchange like every office."""

from __future__ import annotations

from interpol_mesh.app.exchange_routes import router as exchange_router
from interpol_mesh.messaging import OfficeRole
from interpol_offices.general_secretariat.keys import build_key_router, key_authority


def build_role() -> OfficeRole:
    keys = key_authority()
    return OfficeRole(
        name="general_secretariat",
        description="General Secretariat: keeps and signs the key directory, reviews notice requests and publishes notices.",
        routers=[exchange_router, build_key_router(keys)],
        handlers={"key-rotation": keys.on_rotation},
        startup=[keys.seed],
        background=[keys.publisher],
    )
