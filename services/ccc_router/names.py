"""Personal names in a police text, found by how police write them, so the language decision can
set them aside: a name carries the language of its bearer, not of the message about them.

Police traffic writes the family name in capitals (`GARCIA LOPEZ Juan`, `Mr Jean-Luc MARCHAND`,
`BEN ALI Mohamed`). So in a mixed-case text every all-capitals word is set aside (a name, or an
acronym such as SLTD, which has no language either), and so is every capitalised word that does
not start a sentence: in English, French and Spanish that is a proper noun (`Carlos Rodriguez`,
`Madrid`). A sentence-initial word stays (`Subject MOHAMED BEN ALI` keeps `Subject`) unless
another capitalised word follows it (`José Núñez released`); honorifics (`Mr`, `Mme`, `Sra.`)
stay too, as words of the message's language, and the word after one is a name. Particles between name words go with
them (`Charles de Gaulle`). In an Arabic text, which has no case, no Latin capital starts a
sentence: every capitalised Latin word is a proper noun.

In a telex-style text (almost no lower-case letters) capitals are the language itself and cannot
mark a name, so nothing is set aside by case there: the caller reads the text lower-cased.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A word: letters, with inner hyphens or apostrophes (`Jean-Pierre`, `O'BRIEN`, `d'Arc`).
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Words that address or introduce a person; what follows them is a name.
HONORIFICS = frozenset((
    "mr", "mrs", "ms", "miss", "dr", "m", "mme", "mlle", "me", "sr", "sra", "srta", "don", "doña", "dña",
    "dra", "sheikh", "cheikh",
))  # fmt: skip
# Lower-case particles inside a name (`Charles de Gaulle`, `Maria del Carmen`, `van der Berg`).
PARTICLES = frozenset((
    "de", "del", "la", "las", "los", "da", "das", "do", "dos", "van", "der", "von", "den", "du", "ben", "bin",
    "bint", "ibn", "abu", "el", "al",
))  # fmt: skip
# Lower-case letters under this share of the cased letters: the text is written in capitals.
TELEX_LOWER_SHARE = 0.10
CASED_SHARE = 0.90


@dataclass(frozen=True)
class NameSpan:
    text: str
    start: int
    end: int


def is_telex(text: str) -> bool:
    """Written in capitals (telex style): at least 8 cased letters, almost none lower-case, and
    (nearly) no caseless script: Latin capitals quoted in an Arabic text (`GARCIA LOPEZ JUAN`) are
    names, not the language."""
    letters = [ch for ch in text if ch.isalpha()]
    cased = [ch for ch in letters if ch.isupper() or ch.islower()]
    return (
        len(cased) >= 8
        and len(cased) >= CASED_SHARE * len(letters)
        and sum(ch.islower() for ch in cased) < TELEX_LOWER_SHARE * len(cased)
    )


def _shape(word: str) -> str:
    """`caps` (GARCIA, O'BRIEN), `title` (Juan, Jean-Pierre), `particle`, or `other`."""
    letters = [ch for ch in word if ch.isalpha()]
    if len(letters) >= 2 and all(ch.isupper() for ch in letters):
        return "caps"
    if word in PARTICLES:  # lower-case only: a capitalised `Los`, `Ben` is a name word itself
        return "particle"
    if letters and letters[0].isupper() and any(ch.islower() for ch in letters[1:]):
        return "title"
    return "other"


def _sentence_initial(text: str, start: int) -> bool:
    """At the start of the text, a line or a sentence: where every language writes a capital."""
    before = text[:start].rstrip(" \t\"'“«(-•*")
    return not before or before[-1] in ".!?¿¡\n"


def _is_honorific(word: str) -> bool:
    return word[:1].isupper() and word.lower() in HONORIFICS


def _joined(text: str, left: re.Match[str], right: re.Match[str]) -> bool:
    """Spaces join words into one run; so does the dot of an abbreviated honorific (`Sra. Ana`)."""
    between = text[left.end() : right.start()].strip()
    return not between or (between == "." and _is_honorific(left.group()))


def find_names(text: str) -> list[NameSpan]:
    """Name-like runs of a mixed-case text, in text order; none in a telex-style text."""
    if is_telex(text):
        return []
    words = list(_WORD.finditer(text))
    # Arabic script has no case: a capitalised Latin word in an Arabic text starts no sentence.
    caseless = any("\u0600" <= ch <= "\u06ff" for ch in text)
    spans: list[NameSpan] = []
    i = 0
    while i < len(words):
        # A run: consecutive words separated by spaces only (a comma or colon ends a name).
        j = i + 1
        while j < len(words) and _joined(text, words[j - 1], words[j]):
            j += 1
        spans.extend(_names_in_run(text, words[i:j], caseless))
        i = j
    return spans


def _names_in_run(text: str, run: list[re.Match[str]], caseless: bool) -> list[NameSpan]:
    shapes = [_shape(m.group()) for m in run]
    taken = [False] * len(run)
    for k, shape in enumerate(shapes):
        if shape == "caps":
            taken[k] = True
        elif _is_honorific(run[k].group()) and k + 1 < len(run) and shapes[k + 1] == "title":
            taken[k + 1] = True  # Sra. Ana López at a sentence start: Ana is a name all the same
    # A capitalised word that starts no sentence is a proper noun: a given name next to a capitals
    # name (GARCIA LOPEZ Juan), a name written without capitals (Carlos Rodriguez), a place. In an
    # Arabic text, which has no case, no Latin capital starts a sentence.
    for k, shape in enumerate(shapes):
        if shape == "title" and not _is_honorific(run[k].group()):
            taken[k] = taken[k] or caseless or not _sentence_initial(text, run[k].start())
    # A sentence-initial capitalised word before another one is a first name (`José Núñez released`);
    # before a capitals name it stays (`Subject MOHAMED BEN ALI`).
    first, second = (run[0].group(), run[1].group()) if len(run) > 1 else ("", "")
    if shapes[:2] == ["title", "title"] and not _is_honorific(first) and not _is_honorific(second):
        taken[0] = True
    # Particles between two name words (Charles de Gaulle, Maria del Carmen, van der Berg).
    k = 1
    while k < len(run) - 1:
        m = k
        while m < len(run) and shapes[m] == "particle":
            m += 1
        if m > k and taken[k - 1] and m < len(run) and taken[m]:
            taken[k:m] = [True] * (m - k)
        k = m + 1 if m > k else k + 1
    spans: list[NameSpan] = []
    k = 0
    while k < len(run):
        if not taken[k]:
            k += 1
            continue
        m = k
        while m + 1 < len(run) and taken[m + 1]:
            m += 1
        start, end = run[k].start(), run[m].end()
        spans.append(NameSpan(text[start:end], start, end))
        k = m + 1
    return spans
