"""The police databases on the wire: records from their owners, searches, results and hits.

Four kinds (docs/police-data.md has the flows):
- `record-change`: an owner NCB adds, updates or cancels one of its records (to the GS); the GS
  passes each accepted change on to the national copies that may see it (GS to NCB, with the
  record's `revision`, so a copy applies changes in order whatever the delivery order).
- `search-request` / `search-result`: an online (FIND) search, core NATS request/reply on
  `mesh.v1.search.<from>`, signed both ways; never stored on a stream.
- `record-hit`: a match above the searching office's threshold, to the record's owner and the CCC.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from interpol_mesh.ids import MessageId
from interpol_mesh.messages.common import NoticeType, Strict, Timestamp

Database = Literal["sltd", "smv", "persons"]
DATABASES: tuple[Database, ...] = ("sltd", "smv", "persons")
Purpose = Literal["border-check", "investigation"]
SearchMode = Literal["online", "national-copy"]

_ISO2 = r"^[A-Z]{2}$"
# An owner's own reference for a record: part of the record id `<database>/<owner>/<ref>`.
_REF = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


class TravelDocument(Strict):
    """SLTD: a stolen, lost or revoked travel document; only its issuing country may add it."""

    number: str = Field(..., min_length=1, max_length=30, description="as printed; compared without spaces or dashes")
    document_type: Literal["passport", "id-card", "visa", "travel-document", "other"] = "passport"
    issuing_country: str = Field(..., pattern=_ISO2)
    status: Literal["stolen", "lost", "revoked", "invalidated", "blank-stolen"] = "stolen"
    issued_on: date | None = None
    expires_on: date | None = None
    reported_on: date | None = None


class Vehicle(Strict):
    """SMV: a stolen motor vehicle, by VIN and/or registration plate."""

    vin: str | None = Field(None, min_length=1, max_length=30)
    plate: str | None = Field(None, min_length=1, max_length=20)
    plate_country: str | None = Field(None, pattern=_ISO2)
    make: str | None = Field(None, max_length=60)
    model: str | None = Field(None, max_length=60)
    colour: str | None = Field(None, max_length=40)
    year: int | None = Field(None, ge=1886, le=2100)
    stolen_on: date | None = None

    @model_validator(mode="after")
    def _identified(self) -> Vehicle:
        if self.vin is None and self.plate is None:
            raise ValueError("a vehicle needs a vin or a plate")
        if self.plate is not None and self.plate_country is None:
            raise ValueError("plate_country is required with a plate")
        return self


class PersonName(Strict):
    """One name as written in its own script: never transliterated on the wire."""

    family_name: str | None = Field(None, max_length=200)
    given_names: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _some_name(self) -> PersonName:
        if not (self.family_name or self.given_names):
            raise ValueError("a name needs a family name or given names")
        return self


class WantedPerson(Strict):
    """A wanted or missing person; `names[0]` is the main name, the rest aliases, each in its script."""

    names: tuple[PersonName, ...] = Field(..., min_length=1, max_length=20)
    date_of_birth: date | None = None
    nationalities: tuple[str, ...] = Field((), max_length=5, description="ISO 3166-1 alpha-2 codes")
    document_numbers: tuple[str, ...] = Field((), max_length=10)
    status: Literal["wanted", "missing"] = "wanted"
    notice_id: MessageId | None = Field(None, description="the notice this record comes from")
    notice_type: NoticeType | None = None


class RecordChange(Strict):
    """Add, update (`upsert`) or `cancel` one record of its owner.

    From an NCB to the GS: `owner_office` is the sender; `revision` and `source_message_id` are
    absent (the GS assigns them). From the GS to a national copy: the owner, the GS's revision and
    the id of the owner's message; a copy applies a change only if its revision is newer.
    """

    operation: Literal["upsert", "cancel"]
    database: Database
    record_ref: str = Field(..., pattern=_REF)
    owner_office: str = Field(..., min_length=1, max_length=40)
    document: TravelDocument | None = None
    vehicle: Vehicle | None = None
    person: WantedPerson | None = None
    instructions: str | None = Field(
        None, max_length=500, description='what a frontline officer does on a hit, e.g. "seize", "arrest", "locate"'
    )
    visible_to: tuple[str, ...] | None = Field(
        None, max_length=250, description="ISO alpha-2 codes of the countries that may see it; absent: every member"
    )
    retention_until: Timestamp | None = Field(None, description="deleted when it runs out (RPD); default 5 years")
    revision: int | None = Field(None, ge=1, le=2**53 - 1)
    source_message_id: MessageId | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> RecordChange:
        subject = {"sltd": self.document, "smv": self.vehicle, "persons": self.person}
        given = [db for db, value in subject.items() if value is not None]
        if self.operation == "upsert" and given != [self.database]:
            raise ValueError(f"an upsert to {self.database} carries exactly its own subject ({self.database!r} field)")
        if self.operation == "cancel" and given:
            raise ValueError("a cancel carries no record")
        return self


class PersonQuery(Strict):
    names: tuple[PersonName, ...] = Field(..., min_length=1, max_length=5)
    date_of_birth: date | None = None
    nationality: str | None = Field(None, pattern=_ISO2)


class SearchQuery(Strict):
    """What an officer searched: a document, a vehicle or a person (the MRZ is read at the NCB)."""

    database: Database
    document_number: str | None = Field(None, min_length=1, max_length=30)
    issuing_country: str | None = Field(None, pattern=_ISO2)
    vin: str | None = Field(None, min_length=1, max_length=30)
    plate: str | None = Field(None, min_length=1, max_length=20)
    plate_country: str | None = Field(None, pattern=_ISO2)
    person: PersonQuery | None = None


class SearchRequest(Strict):
    query: SearchQuery
    purpose: Purpose = "border-check"
    place: str = Field(..., min_length=1, max_length=300)


class SearchHit(Strict):
    """One candidate record, with why it matched; `score` 1.0 for an exact identifier."""

    record_id: str = Field(..., max_length=200)
    database: Database
    owner_office: str
    record_ref: str
    score: float = Field(..., ge=0, le=1)
    reasons: tuple[str, ...] = ()
    instructions: str | None = None
    document: TravelDocument | None = None
    vehicle: Vehicle | None = None
    person: WantedPerson | None = None
    revision: int = Field(..., ge=1, le=2**53 - 1)


class SearchResult(Strict):
    """The GS's signed answer to one search request, bound to its bytes by their digest."""

    for_message_id: MessageId
    request_digest: str = Field(..., pattern=r"^[0-9a-f]{64}$")
    searched_at: Timestamp
    hits: tuple[SearchHit, ...] = Field((), max_length=50)


class RecordHit(Strict):
    """A frontline match reported to the record's owner and the CCC, once per search and record."""

    search_id: str = Field(..., max_length=40)
    record_id: str = Field(..., max_length=200)
    database: Database
    owner_office: str
    record_ref: str
    notice_id: MessageId | None = None
    notice_type: NoticeType | None = None
    score: float = Field(..., ge=0, le=1)
    reasons: tuple[str, ...] = ()
    mode: SearchMode
    purpose: Purpose
    query: SearchQuery
    country: str = Field(..., pattern=_ISO2)
    place: str = Field(..., min_length=1, max_length=300)
    hit_at: Timestamp
