"""Typed rows of the member directory: offices, their regions, languages and CCC desks."""

from __future__ import annotations

import re
from datetime import time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator

from interpol_mesh.directory.names import office_name

OfficeKind = Literal["ncb", "rb", "lo", "gs", "ccc"]
Language = Literal["en", "ar", "es", "fr"]
Region = Literal["africa", "americas", "asia-south-pacific", "europe", "middle-east-north-africa"]
# The NATS cluster an office attaches to (data/bus_regions.csv says which and why): one per CCC site.
BusRegion = Literal["americas", "emea", "apac"]
BUS_REGIONS: tuple[BusRegion, ...] = ("americas", "emea", "apac")
LanguageBasis = Literal["official", "assumption"]

# The General Secretariat's office id: `gs` everywhere (subjects, keys, databases); its role package
# is `interpol_offices.general_secretariat`. The directory holds exactly one office of kind `gs`, with this id.
GS_ID = "gs"

OFFICIAL_LANGUAGES: tuple[Language, ...] = ("en", "ar", "es", "fr")
_OFFICE_ID = re.compile(r"^(gs|ccc|ncb\.[a-z]{2}|rb\.[a-z-]+|lo\.[a-z-]+)$")


class Office(BaseModel):
    """One office of the mesh; the id is stable and used on the bus, in keys and in databases."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: OfficeKind
    name: str
    city: str | None = None
    country: str | None = None
    region: Region | None = None
    regional_bureau: str | None = None
    bus_region: BusRegion | None = None  # set by the loader from data/bus_regions.csv
    language: Language
    language_basis: LanguageBasis = "official"
    timezone: str | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _OFFICE_ID.match(value):
            raise ValueError(f"office id {value!r} is not of the form gs, ccc, ncb.xx, rb.name or lo.name")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @property
    def token(self) -> str:
        return office_name(self.id, "subject")


class Desk(BaseModel):
    """A CCC operations room and the UTC hours of its follow-the-sun shift."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    city: str
    timezone: str
    shift_start_utc: time
    shift_end_utc: time  # 24:00 is stored as 00:00 of the next day, see loader

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    def on_duty_at_hour(self, hour_utc: int) -> bool:
        start = self.shift_start_utc.hour
        end = self.shift_end_utc.hour or 24
        return start <= hour_utc < end
