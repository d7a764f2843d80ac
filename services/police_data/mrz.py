"""ICAO Doc 9303 machine-readable zones (TD3 passports, TD1/TD2 cards): parse and check every digit.

A border system reads the MRZ, not a typed number: a misread character must be refused at the
NCB (422 naming the field) rather than searched as a different document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class MrzDocument:
    document_type: str  # "passport", "id-card", "visa" or "travel-document" (TravelDocument.document_type)
    issuing_country: str  # ISO 3166-1 alpha-2 (the MRZ's alpha-3 mapped via data/iso3166.csv)
    document_number: str
    family_name: str
    given_names: str
    nationality: str | None  # alpha-2, None for a code with no country (e.g. XXA stateless)
    date_of_birth: date | None
    sex: str  # "female", "male" or "unknown"
    expires_on: date | None


def check_digit(text: str) -> int:
    """ICAO 9303 part 3 §4.9: weights 7, 3, 1; digits, A=10..Z=35, '<'=0."""
    raise NotImplementedError


def parse_mrz(text: str) -> MrzDocument:
    """The MRZ's lines (newline-separated, or concatenated) read and checked; FieldError otherwise."""
    raise NotImplementedError
