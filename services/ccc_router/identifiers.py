"""What in a police text carries no language: e-mail and web addresses, dates and times, document
numbers, VINs, plates and references. Found once, used twice: the language decision sets them
aside before detection (language.py), and related cases key on documents and vehicles (related.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["email", "url", "date", "time", "vin", "document", "plate", "reference"]

# Month abbreviations in telex dates: English, then the Spanish and French ones that differ
# (ENE, ABR, AGO, DIC; FEV, AVR, MAI, JUIN, JUIL, AOU), with or without their accents.
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEPT?|OCT|NOV|DEC|ENE|ABR|AGO|DIC|F[EÉ]V|AVR|MAI|JUI[NL]?|AO[UÛ]|D[EÉ]C"

# Order matters: earlier patterns claim their span first (a URL's digits are not a reference).
_PATTERNS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    # A URL ends before the punctuation that closes its sentence.
    ("url", re.compile(r"(?:https?://|www\.)\S*[^\s.,;:!?)\]]", re.IGNORECASE)),
    ("date", re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b")),
    # Telex and military dates, before the document pattern can claim them: a date-time group
    # (021430ZDEC26: day, hour, minute, zone letter, month, year) and a day-month-year written
    # together (12MAR1985, 3ENE26, 14AVR2026). Upper-case letters and digits, like a passport
    # number, but a date: two reports on people born the same day are not about one document.
    ("date", re.compile(rf"\b\d{{6}}[A-Z](?:{_MONTHS})\d{{2}}\b", re.IGNORECASE)),
    ("date", re.compile(rf"\b\d{{1,2}}(?:{_MONTHS})\d{{2}}(?:\d{{2}})?\b", re.IGNORECASE)),
    ("time", re.compile(r"\b\d{1,2}[:h]\d{2}(?::\d{2})?(?:\s?(?:UTC|GMT|Z))?\b")),
    ("vin", re.compile(r"\b(?=[A-HJ-NPR-Z0-9]*\d)(?=[A-HJ-NPR-Z0-9]*[A-HJ-NPR-Z])[A-HJ-NPR-Z0-9]{17}\b")),
    ("document", re.compile(r"\b(?=[A-Z0-9]*\d[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6,12}\b")),
    # An office's file number (CCC-2026-00981), before the plate pattern can claim its head.
    ("reference", re.compile(r"\b[A-Z]{2,6}[-/]\d{2,4}[-/]\d{2,}\b")),
    ("plate", re.compile(r"\b[A-Z]{1,3}[- ]\d{2,4}(?:[- ][A-Z]{1,3})?\b")),
    ("plate", re.compile(r"\b\d{3,4}[- ]?[A-Z]{3}\b")),  # 4821 KLM, 1234-BCD
    # Digits with upper-case or digit segments (11/2026/PJ, 4471-X); a lower-case word after a
    # hyphen is language, not reference (`14-year-old` gives `14`).
    ("reference", re.compile(r"\b(?:[A-Z]+[/.-])*[A-Za-z]*\d[A-Za-z0-9]*(?:[/.-][A-Z0-9]+)*\b")),
)


@dataclass(frozen=True)
class Identifier:
    kind: Kind
    text: str
    start: int
    end: int


def find_identifiers(text: str) -> list[Identifier]:
    """Every identifier in the text, in text order, spans never overlapping."""
    taken: list[tuple[int, int]] = []
    found: list[Identifier] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append(Identifier(kind, m.group(), m.start(), m.end()))
    return sorted(found, key=lambda i: i.start)


def without_identifiers(text: str) -> str:
    """The text with every identifier replaced by a space (so words on each side stay apart)."""
    out, last = [], 0
    for ident in find_identifiers(text):
        out.append(text[last : ident.start])
        out.append(" ")
        last = ident.end
    out.append(text[last:])
    return "".join(out)
