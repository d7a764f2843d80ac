"""Building blocks shared by the message kinds: people, objects, offences, distribution."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Priority = Literal["routine", "urgent", "critical"]
NoticeType = Literal["red", "yellow", "blue", "black", "green", "orange", "purple", "silver", "un-special"]
Region = Literal["africa", "americas", "asia-south-pacific", "europe", "middle-east-north-africa"]
PersonStatus = Literal[
    "convicted",
    "charged",
    "suspect",
    "missing",
    "unidentified",
    "witness",
    "sanctioned",
    "of-interest",
    "not-applicable",
]

NOTICE_TYPES: tuple[NoticeType, ...] = (
    "red", "yellow", "blue", "black", "green", "orange", "purple", "silver", "un-special",
)  # fmt: skip


class Strict(BaseModel):
    """Wire models refuse unknown fields: within a major version only optional fields are added."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(Strict):
    family_name: str | None = Field(None, max_length=200)
    given_names: str | None = Field(None, max_length=200)
    date_of_birth: date | None = None
    sex: Literal["female", "male", "unknown"] = "unknown"
    nationalities: tuple[str, ...] = Field((), description="ISO 3166-1 alpha-2 codes")
    identity_documents: tuple[str, ...] = ()
    distinguishing_marks: str | None = Field(None, max_length=2000)


class ObjectSubject(Strict):
    category: Literal["vehicle", "document", "weapon", "artwork", "asset", "device", "modus-operandi", "other"]
    description: str = Field(..., min_length=1, max_length=4000)
    identifiers: tuple[str, ...] = ()


class Offence(Strict):
    description: str = Field(..., min_length=1, max_length=2000)
    category: str | None = Field(None, max_length=100, examples=["homicide", "drug trafficking", "fraud"])
    law_reference: str | None = Field(None, max_length=300)
    max_penalty_years: float | None = Field(None, ge=0, description="Maximum penalty the law provides")
    sentence_months: float | None = Field(None, ge=0, description="Sentence imposed, for a convicted person")


class ArrestWarrant(Strict):
    reference: str = Field(..., min_length=1, max_length=200)
    issuing_authority: str = Field(..., min_length=1, max_length=300)
    issued_on: date


class Distribution(Strict):
    """Who may receive a notice: everyone, only an allow-list, or everyone but a deny-list."""

    mode: Literal["all", "allow", "deny"] = "all"
    countries: tuple[str, ...] = Field((), description="ISO 3166-1 alpha-2 codes")
    regions: tuple[Region, ...] = ()
