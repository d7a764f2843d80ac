"""Realistic synthetic records for tests and benchmarks: nothing real.

Document numbers in each country's format, VINs with valid check digits and plates; persons
named per region and script are not here yet: the name matcher is measured on the labelled pairs
of tests/test_police_names.py, and the benchmark draws its persons from small name pools.

Everything is drawn from a seeded `random.Random`, so a seed gives the same records on every
machine, and `documents(n, seed)` is a prefix of `documents(n + k, seed)`. The benchmark draws
10 million documents, so records are plain named tuples built without validation (the store
checks what it files), and a document's number comes from a per-country permutation of the
format's number space: unique within its country, so the unique index never trips on a draw.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from functools import cache
from math import gcd
from typing import NamedTuple

from interpol_offices.police_data.iso3166 import country_codes
from interpol_offices.police_data.mrz import check_digit
from interpol_offices.police_data.vin import vin_check_digit

AS_OF = date(2026, 1, 1)  # the fixed "today" of generated dates (not the clock: runs must agree)

_DIGITS = string.digits
_LETTERS = string.ascii_uppercase
_DE = "CFGHJKLMNPRTVWXYZ" + _DIGITS  # German passport alphabet: no vowels, no B D Q S
_NL_LETTERS = _LETTERS.replace("O", "")
_NL_ANY = _NL_LETTERS + _DIGITS

Segment = tuple[str, int]  # (alphabet, length)

# Passport numbers per issuing country: runs of characters from an alphabet.
FORMATS: dict[str, tuple[Segment, ...]] = {
    "FR": ((_DIGITS, 2), (_LETTERS, 2), (_DIGITS, 5)),  # 12AB34567
    "DE": (("CFGHJK", 1), (_DE, 8)),  # C01X00T47
    "US": ((_DIGITS, 9),),
    "GB": ((_DIGITS, 9),),
    "ES": ((_LETTERS, 3), (_DIGITS, 6)),  # PAA123456
    "IT": ((_LETTERS, 2), (_DIGITS, 7)),  # YA1234567
    "NL": ((_NL_LETTERS, 2), (_NL_ANY, 6), (_DIGITS, 1)),  # NW92BD1H5 (no letter O)
    "BE": ((_LETTERS, 2), (_DIGITS, 6)),  # EH123456
    "CA": ((_LETTERS, 2), (_DIGITS, 6)),  # AB123456
    "AU": ((_LETTERS, 1), (_DIGITS, 7)),  # N1234567
    "BR": ((_LETTERS, 2), (_DIGITS, 6)),  # FZ123456
    "CN": (("E", 1), (_DIGITS, 8)),  # E12345678
    "IN": ((_LETTERS, 1), (_DIGITS, 7)),  # J8369854
    "RU": ((_DIGITS, 9),),  # 2-digit series + 7-digit number
    "MA": ((_LETTERS, 2), (_DIGITS, 7)),
    "EG": ((_LETTERS, 1), (_DIGITS, 8)),
    "NG": ((_LETTERS, 1), (_DIGITS, 8)),
    "KE": ((_LETTERS, 1), (_DIGITS, 7)),
    "AR": ((_LETTERS, 3), (_DIGITS, 6)),  # AAA123456
    "JP": ((_LETTERS, 2), (_DIGITS, 7)),  # TK1234567
    "CH": ((_LETTERS, 1), (_DIGITS, 7)),  # X1234567
    "PL": ((_LETTERS, 2), (_DIGITS, 7)),
    "TR": (("U", 1), (_DIGITS, 8)),
    "MX": ((_LETTERS, 1), (_DIGITS, 8)),
    "SE": ((_DIGITS, 8),),
    "PT": ((_LETTERS, 1), (_DIGITS, 6)),
}
DEFAULT_FORMAT: tuple[Segment, ...] = ((_LETTERS, 1), (_DIGITS, 8))


def _weighted(weights: dict[str, int]) -> tuple[str, ...]:
    """A 100-slot table, so one random index draws with these percentages."""
    table = tuple(value for value, weight in weights.items() for _ in range(weight))
    assert len(table) == 100
    return table


_TYPES = _weighted({"passport": 72, "id-card": 24, "visa": 2, "travel-document": 2})
_STATUSES = _weighted({"stolen": 44, "lost": 46, "revoked": 5, "invalidated": 3, "blank-stolen": 2})
_VALIDITY = {"passport": 3652, "id-card": 3652, "visa": 180, "travel-document": 1826}  # days


class SyntheticDocument(NamedTuple):
    number: str
    issuing_country: str
    document_type: str
    status: str
    issued_on: date | None  # None for a stolen blank
    expires_on: date | None
    reported_on: date


class SyntheticVehicle(NamedTuple):
    vin: str | None
    plate: str | None
    plate_country: str | None
    make: str
    model: str
    colour: str
    year: int
    stolen_on: date


class _Format:
    """A number format compiled for speed: one generated function per format.

    Drawing 10 million numbers through a generic loop over segments costs more than everything
    else in a record, so (as `collections.namedtuple` does) the encoder is generated: a chain of
    divmods, most significant segment first, and one %-format of digits and table lookups.
    """

    def __init__(self, segments: Sequence[Segment]) -> None:
        parts: list[tuple[int, tuple[str, ...] | None, int]] = []  # (radix, table, digits) most significant first
        for alphabet, length in segments:
            if alphabet == _DIGITS:
                parts.append((10**length, None, length))
                continue
            chunk = 3 if len(alphabet) ** 3 <= 50_000 else 2
            for start in range(0, length, chunk):
                table = tuple(_combinations(alphabet, min(chunk, length - start)))
                parts.append((len(table), table, 0))
        self.size = 1
        for radix, _, _ in parts:
            self.size *= radix
        namespace: dict[str, object] = {}
        lines = ["def encode(v):"]
        pattern, args = [], []
        for i in range(len(parts) - 1, -1, -1):  # least significant first
            radix, lookup, _ = parts[i]
            lines.append(f"    v, d{i} = divmod(v, {radix})" if i else "    d0 = v")
            if lookup is not None:
                namespace[f"T{i}"] = lookup
        for i, (_, lookup, digits) in enumerate(parts):
            pattern.append("%s" if lookup is not None else f"%0{digits}d")
            args.append(f"T{i}[d{i}]" if lookup is not None else f"d{i}")
        lines.append(f"    return {''.join(pattern)!r} % ({', '.join(args)},)")
        exec("\n".join(lines), namespace)
        self.encode: Callable[[int], str] = namespace["encode"]  # type: ignore[assignment]


def _combinations(alphabet: str, width: int) -> list[str]:
    combos = [""]
    for _ in range(width):
        combos = [prefix + c for prefix in combos for c in alphabet]
    return combos


@cache
def _format(country: str) -> _Format:
    return _Format(FORMATS.get(country, DEFAULT_FORMAT))


def document_number(rng: random.Random, country: str) -> str:
    """A number as the country prints it on its passports (letter + 8 digits where no format is tabled)."""
    compiled = _format(country)
    return compiled.encode(int(rng.random() * compiled.size))


@cache
def default_countries() -> tuple[str, ...]:
    """The member countries (one NCB each): the owners of SLTD and SMV records."""
    from interpol_mesh.directory.loader import load_directory

    return tuple(sorted(office.country for office in load_directory().ncbs() if office.country))


def documents(
    count: int, seed: int, countries: Sequence[str] | None = None, *, as_of: date = AS_OF
) -> Iterator[SyntheticDocument]:
    """`count` SLTD records, numbers unique per country; dates within the ten years before `as_of`."""
    rng = random.Random(seed)
    rand = rng.random
    codes = tuple(countries) if countries else default_countries()
    # Per country: its code, encoder and permutation, and the index of its next number.
    states = [(code, _format(code).encode, *_permutation(rng, _format(code).size)) for code in codes]
    counters = [0] * len(states)
    n = len(states)
    end = as_of.toordinal()
    first = end - 3650 - 30
    days = [date.fromordinal(o) for o in range(first, end + max(_VALIDITY.values()) + 1)]  # indexed, not built
    types, statuses, validity = _TYPES, _STATUSES, _VALIDITY
    new, record = tuple.__new__, SyntheticDocument  # a named tuple without its __new__'s call overhead
    for _ in range(count):
        which = int(rand() * n)
        code, encode, step, offset, size = states[which]
        index = counters[which]
        counters[which] = index + 1
        number = encode((step * index + offset) % size)
        draw = int(rand() * 10_000)
        kind = types[draw // 100]
        status = statuses[draw % 100]
        if status == "blank-stolen":
            yield new(record, (number, code, kind, status, None, None, days[3680 - int(rand() * 3650)]))
            continue
        issued = 3650 - int(rand() * 3620)  # days after `first`: 30 days to 10 years before as_of
        expires = issued + validity[kind]
        reported = issued + int(rand() * (min(3680, expires) - issued + 1))
        yield new(record, (number, code, kind, status, days[issued], days[expires], days[reported]))


def _permutation(rng: random.Random, size: int) -> tuple[int, int, int]:
    """An affine bijection of range(size): `(step * i + offset) % size` with step coprime to size."""
    step = int(size * (0.5 + 0.3 * rng.random())) | 1
    while gcd(step, size) != 1:
        step += 2
    return step, int(rng.random() * size), size


# --- vehicles -----------------------------------------------------------------------------------

_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 1980..2009, then again from 2010
# World manufacturer identifiers of several regions, with the make and a few of its models.
WMIS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("1FA", "Ford", ("Mustang", "Focus", "Fusion")),
    ("1HG", "Honda", ("Accord", "Civic")),
    ("1G1", "Chevrolet", ("Malibu", "Impala", "Cruze")),
    ("2T1", "Toyota", ("Corolla", "Matrix")),
    ("3VW", "Volkswagen", ("Jetta", "Beetle")),
    ("4T1", "Toyota", ("Camry", "Avalon")),
    ("5YJ", "Tesla", ("Model S", "Model 3")),
    ("JHM", "Honda", ("Jazz", "CR-V")),
    ("JTD", "Toyota", ("Yaris", "Prius")),
    ("KMH", "Hyundai", ("i30", "Tucson", "Elantra")),
    ("WVW", "Volkswagen", ("Golf", "Polo", "Passat")),
    ("WBA", "BMW", ("320d", "520d", "X5")),
    ("WDD", "Mercedes-Benz", ("C 220", "E 300", "A 180")),
    ("VF1", "Renault", ("Clio", "Megane", "Captur")),
    ("VF3", "Peugeot", ("208", "308", "3008")),
    ("ZFA", "Fiat", ("Panda", "500", "Tipo")),
    ("SAJ", "Jaguar", ("XF", "F-Pace")),
    ("YV1", "Volvo", ("XC60", "V60", "S90")),
    ("TMB", "Skoda", ("Octavia", "Fabia")),
    ("LSV", "SAIC Volkswagen", ("Lavida", "Passat")),
    ("LFV", "FAW-Volkswagen", ("Sagitar", "Magotan")),
    ("MA1", "Mahindra", ("Scorpio", "XUV500")),
    ("9BW", "Volkswagen", ("Gol", "Voyage")),
    ("6T1", "Toyota", ("Camry", "HiLux")),
    ("MAL", "Hyundai", ("Creta", "i20")),
)
_COLOURS = ("black", "white", "silver", "grey", "blue", "red", "green", "beige", "brown", "yellow")


def vin(rng: random.Random) -> str:
    """A 17-character VIN with a correct 49 CFR 565 check digit, whatever its region."""
    return _vin(rng, rng.choice(WMIS)[0], 2000 + int(rng.random() * 26))


def _vin(rng: random.Random, wmi: str, year: int) -> str:
    rand = rng.random
    vds = "".join(_VIN_CHARS[int(rand() * 33)] for _ in range(5))
    tail = _YEAR_CODES[(year - 1980) % 30] + _VIN_CHARS[int(rand() * 33)] + f"{int(rand() * 1_000_000):06d}"
    draft = wmi + vds + "0" + tail
    return wmi + vds + vin_check_digit(draft) + tail


# Plate templates: '#' a digit, '@' a letter, '%' a Spanish plate consonant, '&' a Cyrillic plate
# letter (GOST R 50577), '$' a Greek plate letter; anything else is printed as is.
PLATES: dict[str, tuple[str, ...]] = {
    "FR": ("@@-###-@@",),
    "DE": ("B-@@ ####", "M-@@ ###", "HH-@ ####", "K-@@ ###", "F-@@ ####"),
    "GB": ("@@## @@@",),
    "IT": ("@@ ###@@",),
    "ES": ("#### %%%",),
    "NL": ("@@-###-@", "##-@@@-#"),
    "BE": ("1-@@@-###",),
    "US": ("@@@####", "#@@@###"),
    "CA": ("@@@@ ###",),
    "RU": ("&###&& ##", "&###&& 1##"),
    "GR": ("$$$-####",),
    "PL": ("@@ #####",),
    "CH": ("ZH ######", "BE ######", "GE ######"),
    "BR": ("@@@#@##",),
    "AR": ("@@ ###@@",),
}
_DEFAULT_PLATE = ("@@@ ####",)
_PLATE_ALPHABETS = {
    "#": _DIGITS,
    "@": _LETTERS,
    "%": "BCDFGHJKLMNPRSTVWXYZ",
    "&": "АВЕКМНОРСТУХ",
    "$": "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
}


def plate(rng: random.Random, country: str) -> str:
    """A registration plate as written in `country` (separators included: plate_key folds them)."""
    templates = PLATES.get(country, _DEFAULT_PLATE)
    template = templates[int(rng.random() * len(templates))]
    rand = rng.random
    out = []
    for c in template:
        alphabet = _PLATE_ALPHABETS.get(c)
        out.append(c if alphabet is None else alphabet[int(rand() * len(alphabet))])
    return "".join(out)


def vehicles(
    count: int, seed: int, countries: Sequence[str] | None = None, *, as_of: date = AS_OF
) -> Iterator[SyntheticVehicle]:
    """`count` SMV records: 95 % with a VIN, 90 % with a plate (never neither), stolen in the last 5 years."""
    rng = random.Random(seed)
    rand = rng.random
    codes = tuple(countries) if countries else default_countries()
    end = as_of.toordinal()
    for _ in range(count):
        wmi, make, models = WMIS[int(rand() * len(WMIS))]
        year = 2000 + int(rand() * 26)
        country = codes[int(rand() * len(codes))]
        roll = rand()
        number = None if roll < 0.05 else _vin(rng, wmi, year)
        registration = None if roll > 0.90 else plate(rng, country)
        yield SyntheticVehicle(
            vin=number,
            plate=registration,
            plate_country=None if registration is None else country,
            make=make,
            model=models[int(rand() * len(models))],
            colour=_COLOURS[int(rand() * len(_COLOURS))],
            year=year,
            stolen_on=date.fromordinal(end - int(rand() * 1826)),
        )


# --- machine-readable zones ---------------------------------------------------------------------

_DOCUMENT_CODES = {"passport": "P<", "id-card": "I<", "visa": "V<", "travel-document": "PT"}


def mrz_for(
    document: SyntheticDocument,
    *,
    family_name: str = "SPECIMEN",
    given_names: str = "TEST",
    nationality: str | None = None,
    date_of_birth: date = date(1985, 6, 15),
    sex: str = "<",
    personal_number: str = "",
) -> str:
    """A valid 2x44 MRZ (TD3; MRV-A for a visa) for a synthetic document, lines joined by a newline.

    A travel document is coded "PT" (the TD3 reads it back as a passport); an expiry left open
    (a stolen blank) is written as fillers, which parse_mrz reads back as None.
    """
    if len(document.number) > 9:
        raise ValueError("a TD3 carries document numbers of at most 9 characters")
    codes = country_codes().alpha3_by_alpha2
    issuer = _icao(document.issuing_country, codes)
    code = _DOCUMENT_CODES[document.document_type]
    names = (_mrz_text(family_name) + "<<" + _mrz_text(given_names))[:39]
    line1 = f"{code}{issuer}{names:<<39}"
    number = f"{document.number:<<9}"
    birth = date_of_birth.strftime("%y%m%d")
    expiry = document.expires_on.strftime("%y%m%d") if document.expires_on else "<<<<<<"
    head = (
        f"{number}{check_digit(number)}{_icao(nationality or document.issuing_country, codes)}"
        f"{birth}{check_digit(birth)}{sex}{expiry}{check_digit(expiry)}"
    )
    if code == "V<":
        return f"{line1}\n{head}{_mrz_text(personal_number)[:16]:<<16}"
    personal = f"{_mrz_text(personal_number)[:14]:<<14}"
    body = f"{head}{personal}{check_digit(personal)}"
    composite = body[0:10] + body[13:20] + body[21:43]
    return f"{line1}\n{body}{check_digit(composite)}"


def _icao(alpha2: str, codes: dict[str, str]) -> str:
    return "D<<" if alpha2 == "DE" else codes[alpha2]  # 9303: Germany writes D


def _mrz_text(text: str) -> str:
    return "<".join("".join(c if c.isalnum() and c.isascii() else " " for c in text.upper()).split())
