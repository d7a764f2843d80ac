"""Which role an office id runs: looked up from the member directory, never hard-coded per country."""

from __future__ import annotations

from interpol_mesh.directory import Office
from interpol_mesh.messaging import OfficeRole


def role_for(office: Office) -> OfficeRole:
    # Imported here so that starting one office loads only its own role's code.
    if office.kind == "ncb":
        from interpol_offices.ncb import build_role
    elif office.kind == "rb":
        from interpol_offices.regional_bureau import build_role
    elif office.kind == "lo":
        from interpol_offices.liaison_office import build_role
    elif office.kind == "gs":
        from interpol_offices.general_secretariat import build_role
    else:
        from interpol_offices.ccc_router import build_role
    return build_role()
