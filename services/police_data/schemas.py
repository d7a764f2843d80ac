"""Request and response bodies of the NCB's police-data API (`/v1/records`, `/v1/searches`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from interpol_mesh.messages.common import Strict, Timestamp
from interpol_mesh.messages.records import (
    Database,
    PersonQuery,
    Purpose,
    RecordChange,
    SearchHit,
    SearchMode,
    TravelDocument,
    Vehicle,
    WantedPerson,
)

_ISO2 = r"^[A-Z]{2}$"


class RecordSend(Strict):
    """A record of this office (add or replace); the owner is always the NCB that signs it."""

    database: Database
    record_ref: str = Field(
        ..., pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$", description="this office's own reference"
    )
    document: TravelDocument | None = None
    vehicle: Vehicle | None = None
    person: WantedPerson | None = None
    instructions: str | None = Field(None, max_length=500, examples=["seize"])
    visible_to: tuple[str, ...] | None = Field(None, max_length=250, description="absent: every member")
    retention_until: Timestamp | None = Field(None, description="default and at most 5 years from now")

    @model_validator(mode="after")
    def _own_subject(self) -> RecordSend:
        given = [
            db for db, value in (("sltd", self.document), ("smv", self.vehicle), ("persons", self.person)) if value
        ]
        if given != [self.database]:
            field = {"sltd": "document", "smv": "vehicle", "persons": "person"}[self.database]
            raise ValueError(f"a {self.database} record carries exactly its own subject (the {field!r} field)")
        return self

    def for_office(self, office_id: str) -> RecordChange:
        return RecordChange.model_validate({**self.model_dump(), "operation": "upsert", "owner_office": office_id})

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "database": "sltd",
                    "record_ref": "FR-2026-000123",
                    "document": {"number": "18FV04321", "issuing_country": "FR", "status": "stolen"},
                    "instructions": "seize",
                }
            ]
        }
    )


class RecordSent(BaseModel):
    record_id: str
    message_id: str = Field(..., description="the signed record-change to the GS")
    operation: Literal["upsert", "cancel"]


class SearchSend(Strict):
    """An officer's search: a document (number, or the MRZ as read), a vehicle, or a person."""

    database: Database
    document_number: str | None = Field(None, min_length=1, max_length=30)
    issuing_country: str | None = Field(None, pattern=_ISO2)
    mrz: str | None = Field(
        None, min_length=30, max_length=200, description="two or three lines, as the reader gives them"
    )
    vin: str | None = Field(None, min_length=1, max_length=30)
    plate: str | None = Field(None, min_length=1, max_length=20)
    plate_country: str | None = Field(None, pattern=_ISO2)
    person: PersonQuery | None = None
    purpose: Purpose = "border-check"
    place: str = Field(..., min_length=1, max_length=300, examples=["Roissy-CDG T2E, passport control"])
    mode: Literal["online", "national-copy", "auto"] = Field(
        "online",
        description="online (FIND): the GS's databases, 2 s deadline; national-copy (MIND): this office's replica, "
        "also with the link down; auto: online, and the national copy if the GS does not answer",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"database": "sltd", "document_number": "18FV04321", "issuing_country": "FR", "place": "Roissy-CDG T2E"},
                {"database": "smv", "vin": "1HGCM82633A004352", "place": "Port of Le Havre"},
                {"database": "persons", "person": {"names": [{"family_name": "Abdullah", "given_names": "Mohammed"}]},
                 "place": "Lyon Saint-Exupéry"},
            ]
        }
    )  # fmt: skip


class CopyStatus(BaseModel):
    """This office's national copy, for the operators: what it holds and how fresh it is."""

    keeps_copy: bool
    last_revision: int = Field(..., description="the newest GS revision applied (0: nothing yet)")
    copy_as_of: Timestamp | None = Field(None, description="the GS's time of that change")
    applied_at: Timestamp | None = None
    records: dict[Database, int]
    link: Literal["up", "down"]


class SearchAnswer(BaseModel):
    search_id: str = Field(
        ..., description="the search's id in this office's audit trail (online: the signed request's)"
    )
    mode: SearchMode = Field(..., description="where it was answered: online at the GS, or this office's national copy")
    searched_at: Timestamp
    copy_as_of: Timestamp | None = Field(
        None, description="national copy: the GS's time of the newest change it holds (how fresh the answer is)"
    )
    link: Literal["up", "down"] = Field(..., description="this office's link to the bus when it answered")
    hits: list[SearchHit]
    hit_reports: list[str] = Field(..., description="message ids of the record-hit reports sent to owners and the CCC")
