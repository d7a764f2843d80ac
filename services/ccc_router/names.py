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

Which script is the text's own matters, since the two rules mirror each other: Latin capitals in
an Arabic text are quoted names, and so is a short Arabic-script run in a Latin text (`Identité
confirmée : محمد بن علي`), which case cannot mark. Arabic is the main script (`arabic_is_main`)
only on Arabic evidence no name carries: an Arabic function word (`في`, `تم`) or Arabic
punctuation (`،`), at least 3 Arabic words with the Latin evidence under a third of their
letters, or no Latin evidence (under 4 letters) at all (`مطلوب: RODRIGUEZ Carlos.`). Otherwise
the text is cased and every Arabic run in it is set aside as a name. (A Latin telex quoting an
Arabic name is not read as telex: the Arabic letters count against it, as before.)

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
# Arabic words no name is made of (with the conjunction و written on: `وتم`), and Arabic punctuation:
# the sentence's own, so the Arabic is the message, not a quoted name.
ARABIC_FUNCTION_WORDS = frozenset((
    "و", "في", "من", "على", "إلى", "الى", "عن", "مع", "هذا", "هذه", "التي", "الذي", "تم", "قد", "أن", "ان", "لم",
    "لا", "هو", "هي", "كان", "عند", "بعد", "قبل",
))  # fmt: skip
ARABIC_PUNCTUATION = frozenset("،؛؟")
# Without those, Arabic is the main script with at least this many words and this share of the evidence.
MIN_ARABIC_WORDS_MAIN = 3
# Latin evidence shorter than one real word (`ref`) is no evidence that the text is Latin.
MIN_LATIN_EVIDENCE = 4
ARABIC_MAIN_SHARE = 2 / 3


@dataclass(frozen=True)
class NameSpan:
    text: str
    start: int
    end: int


def is_arabic_letter(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or "\ufb50" <= ch <= "\ufefc"


def _is_arabic_word(word: str) -> bool:
    return is_arabic_letter(word[0])


def arabic_sentence_marks(text: str) -> int:
    """Arabic function words and punctuation in the text: Arabic that is a sentence, not a name."""
    words = [m.group() for m in _WORD.finditer(text) if _is_arabic_word(m.group())]
    function = sum(1 for w in words if w in ARABIC_FUNCTION_WORDS or (w[:1] == "و" and w[1:] in ARABIC_FUNCTION_WORDS))
    return function + sum(1 for ch in text if ch in ARABIC_PUNCTUATION)


def arabic_is_main(text: str) -> bool:
    """Arabic is the text's own script, not quoted names: see the module docstring."""
    arabic = [m.group() for m in _WORD.finditer(text) if _is_arabic_word(m.group())]
    if not arabic:
        return False
    if arabic_sentence_marks(text):
        return True
    latin = _latin_evidence_letters(text)
    letters = sum(len(w) for w in arabic)
    return latin < MIN_LATIN_EVIDENCE or (
        len(arabic) >= MIN_ARABIC_WORDS_MAIN and letters >= ARABIC_MAIN_SHARE * (letters + latin)
    )


def _latin_evidence_letters(text: str) -> int:
    """Letters of the Latin words the case rules leave as language (the text read as cased), less a
    capitalised word that starts a name run (`Marie-Claire DUPONT`): it starts a sentence in Latin,
    but could as well be a given name quoted in Arabic."""
    taken = [(span.start, span.end) for span in _latin_names(text, caseless=False)]
    words = list(_WORD.finditer(text))
    count = 0
    for k, m in enumerate(words):
        if _is_arabic_word(m.group()) or any(start <= m.start() < end for start, end in taken):
            continue
        after = words[k + 1] if k + 1 < len(words) else None
        if (
            _shape(m.group()) == "title"
            and after is not None
            and _joined(text, m, after)
            and _shape(after.group()) in ("caps", "title")
        ):
            continue
        count += sum(ch.isalpha() for ch in m.group())
    return count


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
    """Name-like runs of a mixed-case text, in text order; none in a telex-style text. In a cased
    text whose main script is not Arabic, its Arabic-script runs too (quoted names)."""
    if is_telex(text):
        return []
    main = arabic_is_main(text)
    quoted = [] if main else _arabic_runs(text)
    # Arabic script has no case: a capitalised Latin word in an Arabic text starts no sentence.
    return sorted(_latin_names(text, caseless=main) + quoted, key=lambda span: span.start)


def _arabic_runs(text: str) -> list[NameSpan]:
    """Arabic-script words joined by spaces: in a Latin text, quoted names (`محمد بن علي`)."""
    words = [m for m in _WORD.finditer(text) if _is_arabic_word(m.group())]
    spans: list[NameSpan] = []
    i = 0
    while i < len(words):
        j = i + 1
        while j < len(words) and not text[words[j - 1].end() : words[j].start()].strip():
            j += 1
        start, end = words[i].start(), words[j - 1].end()
        spans.append(NameSpan(text[start:end], start, end))
        i = j
    return spans


def _latin_names(text: str, *, caseless: bool) -> list[NameSpan]:
    words = list(_WORD.finditer(text))
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
