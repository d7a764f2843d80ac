"""Document numbers and plates as stored and searched: one normal form, so exact search is exact.

A plate is written as the officer reads it: spaces, dashes, accents, and on Russian, Ukrainian,
Bulgarian or Greek plates letters of their own script that are the look-alikes of Latin ones
(GOST R 50577 and the Greek rules allow only those). All of them fold to one key, so "А 123 ВС 77"
typed in Cyrillic finds the record filed as "A123BC77".
"""

from __future__ import annotations

import re
import unicodedata

from interpol_offices.police_data.errors import FieldError

_DOCUMENT_DROP = re.compile(r"[\s\-.</]+")
# Cyrillic and Greek capitals used on plates because they look like Latin ones.
_LOOKALIKES = str.maketrans(
    "АВЕКМНОРСТУХІЈ" + "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "ABEKMHOPCTYXIJ" + "ABEZHIKMNOPTYX",
)


def document_key(number: str, *, field: str = "document_number") -> str:
    """Upper case, without spaces, dashes, dots, slashes or '<' filler."""
    key = _DOCUMENT_DROP.sub("", number).upper()
    if not key:
        raise FieldError(field, "no characters left once spaces, dashes, dots, slashes and '<' are removed")
    return key


def plate_key(plate: str, *, field: str = "plate") -> str:
    """Upper case letters and digits only (plates are written with spaces and dashes at will)."""
    folded = unicodedata.normalize("NFKD", plate.upper()).translate(_LOOKALIKES)
    key = "".join(_ascii_digit(c) for c in folded if c.isalnum())
    if not key:
        raise FieldError(field, "no letters or digits")
    return key


def _ascii_digit(char: str) -> str:
    """Any script's decimal digit (Arabic-Indic, Persian...) as its ASCII digit; other characters unchanged."""
    value = unicodedata.decimal(char, None)
    return char if value is None else str(value)
