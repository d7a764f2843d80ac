"""Building blocks shared by the message kinds: people, objects, offences, distribution."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

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


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: object) -> object:
    """pydantic reads "1700000000" as a Unix time even in strict mode; a wire time is RFC 3339 text.

    Parsed here because strict validation after a validator takes only a datetime object.
    """
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _RFC3339.fullmatch(value):
        return datetime.fromisoformat(value.upper())  # ValueError for 30 February and the like
    raise ValueError("not an RFC 3339 date-time with a UTC offset")


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339), Field(json_schema_extra={"pattern": _RFC3339.pattern})]
"""Every time on the wire: RFC 3339 with an offset, never a number that some reader takes as epoch seconds."""


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    return isinstance(value, list | tuple) and any(isinstance(v, str) and "\x00" in v for v in value)


class Strict(BaseModel):
    """Wire models refuse unknown fields: within a major version only optional fields are added.

    No text may carry a NUL (U+0000): PostgreSQL cannot store one in a text column, so a title with
    one would pass validation and fail at the commit. It is refused here, at the API (422) and at a
    receiver (a schema rejection), with the field named. Nested models check their own fields.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _no_nul_in_text(self) -> Strict:
        # After, not before, validation: a "before" validator would hand strict JSON parsing
        # Python lists, which strict mode refuses for tuples.
        for key, value in self.__dict__.items():
            if _has_nul(value):
                raise ValueError(f"{key}: text may not contain a NUL character (U+0000)")
        return self


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
