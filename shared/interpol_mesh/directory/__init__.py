"""Member directory: who is in the mesh, where, and in which working language."""

from interpol_mesh.directory.directory import Directory, UnknownOffice
from interpol_mesh.directory.loader import default_data_dir, load_directory
from interpol_mesh.directory.models import (
    BUS_REGIONS,
    GS_ID,
    OFFICIAL_LANGUAGES,
    BusRegion,
    Desk,
    Language,
    Office,
    OfficeKind,
)
from interpol_mesh.directory.names import NameForm, office_name, office_of_subject_token

__all__ = [
    "BUS_REGIONS",
    "GS_ID",
    "OFFICIAL_LANGUAGES",
    "BusRegion",
    "Desk",
    "Directory",
    "Language",
    "NameForm",
    "Office",
    "OfficeKind",
    "UnknownOffice",
    "default_data_dir",
    "load_directory",
    "office_name",
    "office_of_subject_token",
]
