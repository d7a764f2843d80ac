"""Vehicle identification numbers (ISO 3779; check digit of 49 CFR 565 where one applies).

The check digit (position 9) is mandatory in North America (49 CFR 565, WMI starting 1-5) and
in China (GB 16735, WMI starting L); elsewhere ISO 3779 leaves position 9 to the manufacturer,
so a European or Japanese VIN is not refused for a "wrong" digit there. I, O and Q are never
used (ISO 3779), so they are refused everywhere: usually a misread 1 or 0.
"""

from __future__ import annotations

import re

from interpol_offices.police_data.errors import FieldError

_VALID = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_STRIP = re.compile(r"[\s\-]+")
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VALUES = {str(d): d for d in range(10)} | dict(
    zip("ABCDEFGHJKLMNPRSTUVWXYZ", (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9), strict=True)
)
# First character of the WMI whose region makes the check digit mandatory.
CHECKED_REGIONS = frozenset("12345L")


def vin_key(vin: str) -> str:
    """The form stored and searched: upper case, no spaces or dashes."""
    return _STRIP.sub("", vin).upper()


def vin_check_digit(vin: str) -> str:
    """49 CFR 565.15: transliterate, weigh, sum modulo 11 ('X' for 10); position 9 counts as 0."""
    total = sum(_VALUES[c] * w for c, w in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def check_vin(vin: str, *, field: str = "vin") -> str:
    """The VIN's key once valid (17 characters, no I/O/Q, the check digit where the region uses one); FieldError otherwise."""
    key = vin_key(vin)
    if len(key) != 17:
        raise FieldError(field, f"a VIN has 17 characters, not {len(key)}")
    if not _VALID.match(key):
        if any(c in "IOQ" for c in key):
            raise FieldError(field, "I, O and Q are not used in a VIN (a misread 1 or 0?)")
        raise FieldError(field, "only letters and digits are used in a VIN")
    if key[0] in CHECKED_REGIONS and vin_check_digit(key) != key[8]:
        raise FieldError(field, "check digit (9th character) does not match")
    return key
