"""Person names across scripts and spellings: fold, block, score.

Chosen libraries (docs/police-data.md, "Persons"): `anyascii` folds any script to Latin, `rapidfuzz`
scores, `jellyfish` gives phonetic codes. Names on the wire and in the tables stay in their own
script; only keys and scores use the folded form.

Why consonant skeletons: Arabic script writes no short vowels and Latin spellings of one name
differ mostly in vowels (Mohammed, Muhammad, Mohamed), so "mhmd" is where they meet.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import jellyfish
from anyascii import anyascii
from rapidfuzz import fuzz

from interpol_mesh.messages.records import PersonName, PersonQuery, Purpose, WantedPerson

# Minimum score for a hit, per use: at a border a miss lets a wanted person through, so it asks less.
THRESHOLDS: dict[Purpose, float] = {"border-check": 0.80, "investigation": 0.85}
MAX_CANDIDATES = 500  # records sharing a key that are scored; a key that common blocks nothing
PARTICLES = frozenset({"al", "el", "bin", "ben", "ibn", "bint", "abu", "de", "da", "del", "della", "di", "du",
                       "la", "le", "van", "von", "der", "den", "ter", "y", "e"})  # fmt: skip
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_VOWELS = re.compile(r"[aeiouy]+")
_DOUBLES = re.compile(r"(.)\1+")
KEY_LENGTH = 40


@dataclass(frozen=True)
class Match:
    score: float  # 0..1
    reasons: tuple[str, ...]  # e.g. ("names 0.93: muhammad abdallah ~ mohammed abdullah", "date of birth exact")


def fold(name: PersonName) -> tuple[str, ...]:
    """The name's tokens in Latin, lower case, no accents or punctuation, particles set aside."""
    text = " ".join(part for part in (name.given_names, name.family_name) if part)
    latin = anyascii(unicodedata.normalize("NFKC", text)).lower()
    tokens = [t for t in _NOT_WORD.split(latin.replace("'", "").replace("`", "")) if t]
    kept = tuple(t for t in tokens if t not in PARTICLES)
    return kept or tuple(tokens)


def skeleton(token: str) -> str:
    """Vowels dropped, doubled letters collapsed: 'mohammed' and 'muhammad' -> 'mhmd'.

    A leading vowel goes too: Arabic's ayn (علي, Ali) has no Latin letter, so its fold starts with
    a consonant ("ly"); an all-vowel token keeps its first letter.
    """
    consonants = _DOUBLES.sub(r"\1", _VOWELS.sub("", token))
    return (consonants or token[:1])[:KEY_LENGTH]


def _token_keys(token: str) -> set[str]:
    if len(token) < 2 or token.isdigit():
        return set()
    bones = skeleton(token)
    keys = {f"s:{bones}"} if len(bones) >= 2 else set()  # one consonant would make every "Ali" a candidate
    code = jellyfish.metaphone(token)
    if code:
        keys.add(f"m:{code}"[:KEY_LENGTH])
    return keys


def _keys(all_names: tuple[PersonName, ...]) -> frozenset[str]:
    return frozenset(k for name in all_names for token in fold(name) for k in _token_keys(token))


def record_keys(person: WantedPerson) -> frozenset[str]:
    """Keys (at most 40 characters each) a record is filed under (`police_person_keys`)."""
    return _keys(person.names)


def query_keys(query: PersonQuery) -> frozenset[str]:
    """Keys to look up: a record sharing any of them is a candidate to score."""
    return _keys(query.names)


def _name_similarity(query: tuple[str, ...], candidate: tuple[str, ...]) -> float:
    """Order-free: the better of the spelling and the skeleton comparison (skeletons weigh a little less)."""
    q, c = " ".join(query), " ".join(candidate)
    spelled = max(fuzz.token_sort_ratio(q, c), fuzz.token_set_ratio(q, c)) / 100
    sq, sc = " ".join(skeleton(t) for t in query), " ".join(skeleton(t) for t in candidate)
    skeletal = 0.95 * fuzz.token_sort_ratio(sq, sc) / 100
    return max(spelled, skeletal)


def score(query: PersonQuery, candidate: WantedPerson) -> Match:
    """How well `candidate` (any of its names and aliases) matches the query, and why."""
    best, pair = 0.0, ("", "")
    for qn in query.names:
        q = fold(qn)
        for cn in candidate.names:
            c = fold(cn)
            similarity = _name_similarity(q, c)
            if similarity > best:
                best, pair = similarity, (" ".join(q), " ".join(c))
    reasons = [f"names {best:.2f}: {pair[0]} ~ {pair[1]}"]
    adjusted = best
    qd, cd = query.date_of_birth, candidate.date_of_birth
    if qd is not None and cd is not None:
        if qd == cd:
            adjusted += 0.10
            reasons.append("date of birth exact")
        elif (qd.day, qd.month, qd.year) == (cd.month, cd.day, cd.year):
            adjusted += 0.05
            reasons.append("date of birth with day and month swapped")
        elif abs(qd.year - cd.year) <= 1 and (qd.month, qd.day) == (cd.month, cd.day):
            reasons.append("date of birth one year apart")
        else:
            adjusted -= 0.25
            reasons.append("date of birth differs")
    if query.nationality is not None and candidate.nationalities:
        if query.nationality in candidate.nationalities:
            adjusted += 0.03
            reasons.append("nationality matches")
        else:
            adjusted -= 0.05
            reasons.append("nationality differs")
    return Match(score=max(0.0, min(1.0, adjusted)), reasons=tuple(reasons))
