"""Person names across scripts and spellings: fold, block, score.

Chosen libraries (docs/police-data.md, "Persons"): `anyascii` folds any script to Latin, `rapidfuzz`
scores, `jellyfish` gives phonetic codes. Names on the wire and in the tables stay in their own
script; only keys and scores use the folded form.
"""

from __future__ import annotations

from dataclasses import dataclass

from interpol_mesh.messages.records import PersonName, PersonQuery, Purpose, WantedPerson

# Minimum score for a hit, per use: at a border a miss lets a wanted person through.
THRESHOLDS: dict[Purpose, float] = {"border-check": 0.80, "investigation": 0.70}


@dataclass(frozen=True)
class Match:
    score: float  # 0..1
    reasons: tuple[str, ...]  # e.g. ("names 0.93: muhammad~mohammed, abdallah~abdullah", "date of birth exact")


def fold(name: PersonName) -> tuple[str, ...]:
    """The name's tokens in Latin, lower case, no accents or punctuation, particles set aside."""
    raise NotImplementedError


def record_keys(person: WantedPerson) -> frozenset[str]:
    """Keys (at most 40 characters each) a record is filed under (`police_person_keys`)."""
    raise NotImplementedError


def query_keys(query: PersonQuery) -> frozenset[str]:
    """Keys to look up: a record sharing any of them is a candidate to score."""
    raise NotImplementedError


def score(query: PersonQuery, candidate: WantedPerson) -> Match:
    """How well `candidate` (any of its names and aliases) matches the query, and why."""
    raise NotImplementedError
