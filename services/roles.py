"""Which role an office id runs: looked up from the member directory, never hard-coded per country."""

from __future__ import annotations

from importlib import import_module

from interpol_mesh.directory import Office, OfficeKind
from interpol_mesh.errors import ConfigError
from interpol_mesh.messaging import OfficeRole

# One role package per office kind, named in full; the directory's kind is the short office id form.
ROLE_PACKAGES: dict[OfficeKind, str] = {
    "ncb": "interpol_offices.ncb",
    "rb": "interpol_offices.regional_bureau",
    "lo": "interpol_offices.liaison_office",
    "gs": "interpol_offices.general_secretariat",
    "ccc": "interpol_offices.ccc_router",
}


def role_for(office: Office) -> OfficeRole:
    """The role of `office`'s kind; a kind without a role is a configuration error, never a default."""
    package = ROLE_PACKAGES.get(office.kind)
    if package is None:
        raise ConfigError(f"office {office.id}: no role for office kind {office.kind!r}")
    # Imported here so that starting one office loads only its own role's code.
    role: OfficeRole = import_module(package).build_role()
    return role
