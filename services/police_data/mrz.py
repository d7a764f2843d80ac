"""ICAO Doc 9303 machine-readable zones (TD3 passports, TD1/TD2 cards, MRV-A/B visas): parse and check every digit.

A border system reads the MRZ, not a typed number: a misread character must be refused at the
NCB (422 naming the field) rather than searched as a different document. Every check digit the
format has is verified, and each failure names its field (`mrz.document_number`, `mrz.composite`...).

Country codes: ICAO's alpha-3 codes map to ISO alpha-2 through data/iso3166.csv, with Germany's
`D` and the British classes (GBD, GBN, GBO, GBP, GBS) as GB. The stateless, refugee, unspecified
and organisation codes (XXA, XXB, XXC, XXX, UNO, UNA, UNK, EUE, XPO...) give nationality None. As
the *issuer*, UNO/UNA/UNK are filed as "UN" and EUE as "EU" (ISO's exceptionally reserved codes:
UN laissez-passer are in SLTD and must be searchable); the other organisation and status codes
are refused as issuers, since the databases file documents by issuing state.

Two-digit years: a date of birth is the latest such date not after `today`; an expiry date is
taken within 50 years either side of `today` (documents are valid ten years at most, and an
expired document is still searched).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from interpol_offices.police_data.errors import FieldError
from interpol_offices.police_data.iso3166 import (
    ICAO_ALIASES,
    ISSUER_ORGANISATIONS,
    NO_NATIONALITY,
    country_codes,
)

_WEIGHTS = (7, 3, 1)
_VALUES = {c: i for i, c in enumerate("0123456789")} | {c: 10 + i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
_VALUES["<"] = 0
_LINE = re.compile(r"^[A-Z0-9<]+$")
# (line count, line length) -> format name; a visa (first character V) in the 44/36 shapes is MRV-A/B.
_SHAPES = {(2, 44): "TD3", (3, 30): "TD1", (2, 36): "TD2"}
_FLAT = {88: (2, 44), 90: (3, 30), 72: (2, 36)}
_SEX = {"F": "female", "M": "male", "X": "unknown", "<": "unknown"}


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
    mrz_format: str = "TD3"  # "TD3", "TD1", "TD2", "MRV-A" or "MRV-B"
    personal_number: str = ""  # TD3's optional data (a personal number), checked when present
    optional_data: str = ""  # the other optional data fields, fillers removed (not checked by ICAO)


def check_digit(text: str) -> int:
    """ICAO 9303 part 3 §4.9: weights 7, 3, 1; digits, A=10..Z=35, '<'=0."""
    try:
        return sum(_VALUES[c] * _WEIGHTS[i % 3] for i, c in enumerate(text)) % 10
    except KeyError as exc:
        raise ValueError(f"not an MRZ character: {exc.args[0]!r}") from None


def parse_mrz(text: str, *, today: date | None = None) -> MrzDocument:
    """The MRZ's lines (newline-separated, or concatenated) read and checked; FieldError otherwise."""
    lines = _lines(text)
    today = today or date.today()
    shape = (len(lines), len(lines[0]))
    kind = _SHAPES[shape]
    if lines[0][0] == "V" and kind != "TD1":
        kind = "MRV-A" if kind == "TD3" else "MRV-B"
    if kind == "TD1":
        return _td1(lines, today)
    return _two_line(lines, kind, today)


def _lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.strip().upper().splitlines() if line.strip()]
    if len(lines) == 1 and len(lines[0]) in _FLAT:
        count, width = _FLAT[len(lines[0])]
        lines = [lines[0][i * width : (i + 1) * width] for i in range(count)]
    if len(lines) == 0 or (len(lines), len(lines[0])) not in _SHAPES or len({len(line) for line in lines}) != 1:
        raise FieldError(
            "mrz.format",
            "expected 2 lines of 44 characters (passport, visa), 3 of 30 (ID card) or 2 of 36 (TD2, visa)",
        )
    for number, line in enumerate(lines, start=1):
        if not _LINE.match(line):
            raise FieldError("mrz.format", f"line {number} has characters other than A-Z, 0-9 and '<'")
    if not lines[0][0].isalpha():
        raise FieldError("mrz.format", "the document code must start with a letter")
    return lines


def _two_line(lines: list[str], kind: str, today: date) -> MrzDocument:
    """TD3, TD2, MRV-A and MRV-B share line 2 up to the expiry check digit (position 28)."""
    first, second = lines
    visa = kind.startswith("MRV")
    optional = second[28:] if visa else second[28:-1]
    number, overflow_rest = _document_number(second[0:9], second[9], optional, overflowing=kind == "TD2")
    personal = ""
    if kind == "TD3":
        personal = _personal_number(second[28:42], second[42])
    family, given = _names(first[5:])
    document = MrzDocument(
        document_type=_document_type(first[0:2]),
        issuing_country=_issuer(first[2:5]),
        document_number=number,
        family_name=family,
        given_names=given,
        nationality=_nationality(second[10:13]),
        date_of_birth=_birth(second[13:19], second[19], today),
        sex=_sex(second[20]),
        expires_on=_expiry(second[21:27], second[27], today),
        mrz_format=kind,
        personal_number=personal,
        optional_data="" if kind == "TD3" else _filled(overflow_rest),
    )
    if not visa:  # last, so that a wrong field is named rather than the composite over it
        _check("mrz.composite", second[0:10] + second[13:20] + second[21:-1], second[-1])
    return document


def _td1(lines: list[str], today: date) -> MrzDocument:
    first, second, third = lines
    number, optional1 = _document_number(first[5:14], first[14], first[15:30], overflowing=True)
    family, given = _names(third)
    document = MrzDocument(
        document_type=_document_type(first[0:2]),
        issuing_country=_issuer(first[2:5]),
        document_number=number,
        family_name=family,
        given_names=given,
        nationality=_nationality(second[15:18]),
        date_of_birth=_birth(second[0:6], second[6], today),
        sex=_sex(second[7]),
        expires_on=_expiry(second[8:14], second[14], today),
        mrz_format="TD1",
        optional_data=" ".join(part for part in (_filled(optional1), _filled(second[18:29])) if part),
    )
    _check("mrz.composite", first[5:30] + second[0:7] + second[8:15] + second[18:29], second[29])
    return document


def _check(field: str, text: str, digit: str) -> None:
    if not digit.isdigit() or check_digit(text) != int(digit):
        raise FieldError(field, "check digit does not match")


def _filled(text: str) -> str:
    """A field without its '<' fillers ('<' inside a field stands for a space)."""
    return " ".join(text.replace("<", " ").split())


def _document_number(head: str, digit: str, optional: str, *, overflowing: bool) -> tuple[str, str]:
    """The number (TD1/TD2: longer than 9 characters, it goes on in the optional data) and the rest of the optional data.

    9303 part 5/6: a '<' in the check digit position means the number's last characters and its
    check digit open the optional data, followed by a filler.
    """
    if digit == "<" and overflowing:
        run, _, rest = optional.partition("<")
        if len(run) < 2:
            raise FieldError("mrz.document_number", "long number announced but not continued in the optional data")
        number = head + run[:-1]
        _check("mrz.document_number", number, run[-1])
        return number, rest
    _check("mrz.document_number", head, digit)
    number = head.rstrip("<")
    if not number or "<" in number:
        raise FieldError("mrz.document_number", "empty or with filler inside")
    return number, optional


def _personal_number(field: str, digit: str) -> str:
    """TD3 optional data: its check digit may be '<' (or 0) when the field is all fillers."""
    if field.strip("<") == "" and digit in "<0":
        return ""
    _check("mrz.personal_number", field, digit)
    return _filled(field)


def _date(field: str, path: str, year: int) -> date:
    try:
        return date(year, int(field[2:4]), int(field[4:6]))
    except ValueError:
        raise FieldError(path, "not a date") from None


def _date_digits(field: str, digit: str, path: str) -> bool:
    """Check digit verified; False when the date is unknown (fillers, 9303 part 3 §4.4)."""
    _check(path, field, digit)
    if "<" in field:
        return False
    if not field.isdigit():
        raise FieldError(path, "not a date (YYMMDD)")
    return True


def _birth(field: str, digit: str, today: date) -> date | None:
    if not _date_digits(field, digit, "mrz.date_of_birth"):
        return None
    year = today.year // 100 * 100 + int(field[0:2])
    for candidate in (year, year - 100):
        try:
            born = date(candidate, int(field[2:4]), int(field[4:6]))
        except ValueError:
            continue
        if born <= today:
            return born
    raise FieldError("mrz.date_of_birth", "not a date")


def _expiry(field: str, digit: str, today: date) -> date | None:
    if not _date_digits(field, digit, "mrz.expires_on"):
        return None
    year = today.year // 100 * 100 + int(field[0:2])
    if year > today.year + 50:
        year -= 100
    elif year < today.year - 50:
        year += 100
    return _date(field, "mrz.expires_on", year)


def _sex(char: str) -> str:
    try:
        return _SEX[char]
    except KeyError:
        raise FieldError("mrz.sex", "must be F, M, X or '<'") from None


def _document_type(code: str) -> str:
    first = code[0]
    if first == "P":
        return "passport"
    if first in "IAC":
        return "id-card"
    if first == "V":
        return "visa"
    return "travel-document"


def _country(code: str) -> str | None:
    code = code.rstrip("<")
    return ICAO_ALIASES.get(code) or country_codes().alpha2_by_alpha3.get(code)


def _issuer(field: str) -> str:
    country = _country(field) or ISSUER_ORGANISATIONS.get(field.rstrip("<"))
    if country is None:
        if field in NO_NATIONALITY:
            raise FieldError(
                "mrz.issuing_country", "an organisation or status code, not an issuing state the databases file"
            )
        raise FieldError("mrz.issuing_country", "not an ICAO 9303 state code")
    return country


def _nationality(field: str) -> str | None:
    country = _country(field)
    if country is None and field not in NO_NATIONALITY:
        raise FieldError("mrz.nationality", "not an ICAO 9303 state code")
    return country


def _names(field: str) -> tuple[str, str]:
    if any(c.isdigit() for c in field):
        raise FieldError("mrz.name", "digits in the name zone (a misread?)")
    family, _, given = field.partition("<<")
    return _filled(family), _filled(given)
