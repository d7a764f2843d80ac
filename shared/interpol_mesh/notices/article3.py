"""Article 3 screen: find lexicon terms in a request's text and report them for a human reviewer.

This is a screen, not a decision. It cannot apply the predominance test (DOMAIN.md §2): a
match means "a reviewer must look", and no match proves nothing. False positives are cheap (one
look by the reviewer); what matters is that the matched words are shown, with where they were.

Matching is on normalised text: Unicode compatibility decomposition with combining marks
removed (so "blasphème" = "blaspheme" and Arabic vowel marks and hamza seats vanish), case
folded, teh marbuta and alef maqsura folded, tatweel removed. Words are matched whole, except
where the term allows endings with `*`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, Field

from interpol_mesh.notices.article3_terms import LEXICON, Category, TermLanguage

_FOLD = str.maketrans({"ة": "ه", "ى": "ي", "ـ": None, "’": "'", "ʼ": "'"})
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_SEPARATOR = r"[\W_]+"
# One-letter proclitics (and, so, with/by, for, like) are only allowed before words of four
# letters or more: before short words they make too many unrelated words (و + ردة = rose).
_CLITIC = "[وفبلك]"


def _fold(ch: str) -> str:
    decomposed = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().translate(_FOLD)


def normalise_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text, and for each of its characters the index of the original character."""
    folded: list[str] = []
    offsets: list[int] = []
    for index, ch in enumerate(text):
        part = _fold(ch)
        folded.append(part)
        offsets.extend([index] * len(part))
    return "".join(folded), offsets


def normalise(text: str) -> str:
    """Fold text so that spelling variants of the same word compare equal."""
    return normalise_with_offsets(text)[0]


def _latin_word(word: str) -> str:
    if word.endswith("*"):
        return re.escape(word[:-1]) + r"\w*"
    return re.escape(word)


def _arabic_word(word: str, first: bool) -> str:
    ending = r"\w*" if word.endswith("*") else ""
    stem = word.rstrip("*")
    if stem.startswith("ال"):  # the article is part of the term: required, prefixes may precede it
        body = re.escape(stem[2:])
        prefix = f"(?:{_CLITIC}?ال|لل)" if first else "ال"
        return prefix + body + ending
    clitic = f"{_CLITIC}?" if first and len(stem) >= 4 else ""
    return f"{clitic}(?:ال|لل)?{re.escape(stem)}{ending}"


def compile_term(term: str) -> re.Pattern[str]:
    """A regular expression for one lexicon term, applied to normalised text."""
    words = [w for w in re.split(r"[\s\-']+", normalise(term)) if w]
    if _ARABIC.search(term):
        parts = [_arabic_word(w, i == 0) for i, w in enumerate(words)]
    else:
        parts = [_latin_word(w) for w in words]
    return re.compile(r"(?<!\w)" + _SEPARATOR.join(parts) + r"(?!\w)")


@dataclass(frozen=True)
class _Term:
    text: str
    category: Category
    language: TermLanguage
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def _terms() -> tuple[_Term, ...]:
    return tuple(
        _Term(term, category, language, compile_term(term))
        for language, categories in LEXICON.items()
        for category, terms in categories.items()
        for term in terms
    )


class Article3Flag(BaseModel):
    """One lexicon term found in one field: what a reviewer should look at, and why."""

    term: str = Field(..., description="The lexicon term that matched", examples=["political activit*"])
    category: Category
    language: TermLanguage = Field(..., description="Language of the lexicon entry, not of the request")
    field: str = Field(..., description="Where it was found", examples=["offence.description"])
    matched: str = Field(..., description="The words as written in the request", examples=["political activity"])


def scan(fields: dict[str, str]) -> list[Article3Flag]:
    """Terms found in the given fields, each term once per field; overlapping matches keep the longest."""
    flags: list[Article3Flag] = []
    for field, text in fields.items():
        folded, offsets = normalise_with_offsets(text)
        hits = [(m.start(), m.end(), t) for t in _terms() for m in t.pattern.finditer(folded)]
        hits.sort(key=lambda hit: (hit[0], hit[0] - hit[1]))
        covered_until = -1
        seen: set[str] = set()
        for start, end, term in hits:
            if end <= covered_until or term.text in seen:
                continue
            covered_until = max(covered_until, end)
            seen.add(term.text)
            matched = text[offsets[start] : offsets[end - 1] + 1]
            flags.append(
                Article3Flag(
                    term=term.text, category=term.category, language=term.language, field=field, matched=matched
                )
            )
    return flags
