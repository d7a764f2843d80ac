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
from functools import lru_cache

import jellyfish
from anyascii import anyascii
from rapidfuzz import fuzz

from interpol_mesh.messages.records import PersonName, PersonQuery, Purpose, WantedPerson

# Minimum score for a hit, per use: at a border a miss lets a wanted person through, so it asks less.
THRESHOLDS: dict[Purpose, float] = {"border-check": 0.80, "investigation": 0.85}
MAX_CANDIDATES = 500  # records sharing a key that are scored; a key that common blocks nothing
PARTICLES = frozenset({"al", "el", "bin", "ben", "bn", "ibn", "bint", "abu", "de", "da", "del", "della", "di", "du",
                       "la", "le", "van", "von", "der", "den", "ter", "y", "e"})  # fmt: skip
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_VOWELS = re.compile(r"[aeiouy]+")
_DOUBLES = re.compile(r"(.)\1+")
KEY_LENGTH = 40
_DIGRAPHS = (("shch", "s"), ("sch", "s"), ("tch", "s"), ("sh", "s"), ("ch", "s"), ("ph", "f"), ("kh", "k"), ("gh", "g"), ("dj", "j"),
             ("th", "t"))  # fmt: skip
# Arabic, before it is folded: the article al- joined to its word (الحربي: Al-Harbi, Harbi), and
# ta marbuta, a final -a or -ah in Latin (فاطمة: Fatima, Fatma), written as a vowel, not an h.
_ARABIC_ARTICLE = re.compile("(?<![\u0600-\u06ff])\u0627\u0644(?=[\u0600-\u06ff]{2})")
_TA_MARBUTA = "\u0629"
_ARABIC_ABD = re.compile("\u0639\u0628\u062f\\s+")  # عبد: "servant of", one name with the next (Abdullah)
_LATIN_ABD = frozenset({"abd", "abdel", "abdul", "abdal", "abdur", "abder", "abdu", "abdoul"})
_JOINED_ARTICLE = re.compile(r"^(?:al|el)-?(?=[a-z]{4})")
_CLASSES = str.maketrans({"w": "v", "q": "k", "c": "k", "z": "s"})


@dataclass(frozen=True)
class Match:
    score: float  # 0..1
    reasons: tuple[str, ...]  # e.g. ("names 0.93: muhammad abdallah ~ mohammed abdullah", "date of birth exact")


def _is_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def fold(name: PersonName) -> tuple[str, ...]:
    """The name's tokens in Latin, lower case, no accents or punctuation, particles set aside.

    In Arabic script, waw and ya inside a word are mostly long vowels (يونس: Younes, Yunus), so a
    fold of Arabic text reads them as u and i there; at the start of a word they stay consonants
    (وليد: Walid). The article al- joined to a word is set apart like the Latin particle.
    """
    return _fold(name.family_name, name.given_names)


# Caches: a search scores up to MAX_CANDIDATES records, and the same names come back search after
# search; folding is pure, so each name is read once per process (bounded, least recently used).
@lru_cache(maxsize=1 << 18)
def _fold(family_name: str | None, given_names: str | None) -> tuple[str, ...]:
    text = " ".join(part for part in (given_names, family_name) if part)
    arabic = _is_arabic(text)
    if arabic:
        text = _ARABIC_ARTICLE.sub("", _ARABIC_ABD.sub("\u0639\u0628\u062f", text)).replace(_TA_MARBUTA, "a")
    latin = anyascii(unicodedata.normalize("NFKC", text)).lower()
    tokens = [t for t in _NOT_WORD.split(latin.replace("'", "").replace("`", "")) if t]
    if arabic:
        tokens = [t[0] + t[1:].replace("w", "u").replace("y", "i") for t in tokens]
    tokens = _join_abd(tokens)
    kept = tuple(t for t in tokens if t not in PARTICLES)
    return kept or tuple(tokens)


def _join_abd(tokens: list[str]) -> list[str]:
    """Abd el Aziz, Abdel Aziz and Abdelaziz are one name: "abd…" joins the word after it."""
    out: list[str] = []
    for token in tokens:
        if out and out[-1] in _LATIN_ABD:
            out[-1] += token
        else:
            out.append(token)
    return out


def readings(name: PersonName) -> tuple[tuple[str, ...], ...]:
    """The fold, and the fold with an Arabic article written joined set apart (Alharbi: al Harbi).

    Only as a second reading: Alexander and Elena keep their first letters in the first one.
    """
    return _readings(name.family_name, name.given_names)


@lru_cache(maxsize=1 << 18)
def _readings(family_name: str | None, given_names: str | None) -> tuple[tuple[str, ...], ...]:
    folded = _fold(family_name, given_names)
    stripped = tuple(_JOINED_ARTICLE.sub("", t) for t in folded)
    return (folded,) if stripped == folded else (folded, stripped)


@lru_cache(maxsize=1 << 16)
def skeleton(token: str) -> str:
    """Consonants by sound, vowels dropped, doubles collapsed: 'mohammed', 'muhammad' -> 'mhmd'.

    Letters that transliterations use for one sound are one class (v/w, c/k/q, z/s; kh, sh, ph, dj
    as one letter): Vladimir and Wladimir, Qasim and Kassem, Tariq and Tarik meet. A leading vowel
    goes too: Arabic's ayn (علي, Ali) has no Latin letter; an all-vowel token keeps its first letter.
    """
    for spelled, sound in _DIGRAPHS:
        token = token.replace(spelled, sound)
    consonants = _DOUBLES.sub(r"\1", _VOWELS.sub("", token.translate(_CLASSES)))
    return (consonants or token[:1])[:KEY_LENGTH]


def _token_keys(token: str) -> set[str]:
    if len(token) < 2 or token.isdigit():
        return set()
    bones = skeleton(token)
    keys = {f"s:{bones}"} if len(bones) >= 2 else set()  # one consonant would make every "Ali" a candidate
    if len(bones) >= 4:  # a long name's first sounds survive a typo further in (Kuznetsov, Kuznecov), its
        keys.add(f"p:{bones[:3]}")  # last ones a typo near the start (Sokolov, Stkolov)
        keys.add(f"x:{bones[-3:]}")
    code = jellyfish.metaphone(token)
    if code:
        keys.add(f"m:{code}"[:KEY_LENGTH])
    return keys


def _keys(all_names: tuple[PersonName, ...]) -> frozenset[str]:
    return frozenset(
        k for name in all_names for reading in readings(name) for token in reading for k in _token_keys(token)
    )


def record_keys(person: WantedPerson) -> frozenset[str]:
    """Keys (at most 40 characters each) a record is filed under (`police_person_keys`)."""
    return _keys(person.names)


def query_keys(query: PersonQuery) -> frozenset[str]:
    """Keys to look up: a record sharing any of them is a candidate to score."""
    return _keys(query.names)


@lru_cache(maxsize=1 << 18)
def _skeletons(tokens: tuple[str, ...]) -> str:
    return " ".join(skeleton(t) for t in tokens)


def _name_similarity(query: tuple[str, ...], candidate: tuple[str, ...]) -> float:
    """Order-free: the better of the spelling and the skeleton comparison (skeletons weigh a little less)."""
    q, c = " ".join(query), " ".join(candidate)
    spelled = max(fuzz.token_sort_ratio(q, c), fuzz.token_set_ratio(q, c)) / 100
    sq, sc = _skeletons(query), _skeletons(candidate)
    skeletal = 0.95 * fuzz.token_sort_ratio(sq, sc) / 100
    return max(spelled, skeletal)


def score(query: PersonQuery, candidate: WantedPerson) -> Match:
    """How well `candidate` (any of its names and aliases) matches the query, and why."""
    best, pair = 0.0, ("", "")
    for q in (r for qn in query.names for r in readings(qn)):
        for c in (r for cn in candidate.names for r in readings(cn)):
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
