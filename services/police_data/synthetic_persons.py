"""Synthetic wanted persons and the labelled queries that measure person matching; nothing real.

Names come from `data/name_variants.csv`: each a name in its own script with the Latin spellings
officers really meet (Mohammed, Muhammad, Mohamed…; Sergei, Sergey, Serguei…; Müller, Mueller).
A record holds the name in its own script, sometimes with one Latin alias, as a notice would; a
query is what a frontline officer types from a foreign document or a conversation: another Latin
spelling or the original script, with typos, family and given names swapped, a given name left
out, a date of birth missing, with day and month swapped or a year off. Each query knows the record
it stands for, so recall and false matches are counted, not guessed.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

from interpol_mesh.errors import ConfigError
from interpol_mesh.messages.records import PersonName, PersonQuery, WantedPerson
from interpol_offices.police_data import DATA_DIR

VARIANTS_FILE = DATA_DIR / "name_variants.csv"
Part = Literal["given", "family"]
SCRIPTS = {"arab": "SA", "cyrl": "RU", "grek": "GR", "latn": "FR"}  # a nationality typical of each script


@dataclass(frozen=True)
class NameVariants:
    part: Part
    script: str
    native: str
    latin: tuple[str, ...]  # the first is the usual transliteration


@cache
def name_variants(path: Path = VARIANTS_FILE) -> tuple[NameVariants, ...]:
    """The reviewed name list; a malformed row is one ConfigError naming its line."""
    rows: list[NameVariants] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            part, script, native = row.get("part"), row.get("script"), (row.get("native") or "").strip()
            latin = tuple(v.strip() for v in (row.get("latin") or "").split("|") if v.strip())
            if part not in ("given", "family") or script not in SCRIPTS or not native or not latin or None in row:
                raise ConfigError(f"{path}:{reader.line_num}: expected part,script,native,latin (variants split by |)")
            if any(not v.isascii() for v in latin):
                raise ConfigError(f"{path}:{reader.line_num}: the Latin spellings are plain ASCII")
            rows.append(NameVariants(part, script, native, latin))  # type: ignore[arg-type]
    return tuple(rows)


@dataclass(frozen=True)
class Labelled:
    """One query and the index of the record it stands for, with what was changed (for a miss's report)."""

    query: PersonQuery
    record: int
    changes: tuple[str, ...]


def persons(count: int, *, seed: int = 11) -> list[WantedPerson]:
    """`count` distinct people (no two share both names), each script's names combined within the script."""
    rng = random.Random(seed)
    by_script: dict[str, dict[str, list[NameVariants]]] = {}
    for v in name_variants():
        by_script.setdefault(v.script, {}).setdefault(v.part, []).append(v)
    scripts = sorted(by_script)
    seen: set[tuple[str, str]] = set()
    people: list[WantedPerson] = []
    while len(people) < count:
        script = rng.choice(scripts)
        family, given = rng.choice(by_script[script]["family"]), rng.choice(by_script[script]["given"])
        if (family.native, given.native) in seen:
            continue
        seen.add((family.native, given.native))
        names = [PersonName(family_name=family.native, given_names=given.native)]
        if script != "latn" and rng.random() < 0.5:
            names.append(PersonName(family_name=family.latin[0], given_names=given.latin[0]))
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
        people.append(WantedPerson(names=tuple(names), date_of_birth=born, nationalities=(SCRIPTS[script],)))
    return people


def _variants_of(native: str) -> tuple[str, ...]:
    for v in name_variants():
        if v.native == native:
            return v.latin
    return (native,)


def _typo(rng: random.Random, text: str) -> str:
    """One keyboard slip in a word of at least four letters: a letter dropped, doubled, swapped or replaced."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 4]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    p = rng.randrange(1, len(w) - 1)  # never the first letter: officers rarely misread that one
    kind = rng.choice(("drop", "double", "swap", "replace"))
    if kind == "drop":
        w = w[:p] + w[p + 1 :]
    elif kind == "double":
        w = w[:p] + w[p] + w[p:]
    elif kind == "swap":
        w = w[:p] + w[p + 1] + w[p] + w[p + 2 :]
    else:
        w = w[:p] + rng.choice("aeioulnrst") + w[p + 1 :]
    words[i] = w
    return " ".join(words)


def labelled_queries(people: list[WantedPerson], count: int, *, seed: int = 12) -> list[Labelled]:
    """`count` queries, each derived from one of `people` the way a frontline search varies a name."""
    rng = random.Random(seed)
    out: list[Labelled] = []
    while len(out) < count:
        index = rng.randrange(len(people))
        person = people[index]
        main = person.names[0]
        family, given = main.family_name or "", main.given_names or ""
        changes: list[str] = []
        if rng.random() < 0.15 and not (family.isascii() and given.isascii()):
            changes.append("original script")
        else:
            family, given = rng.choice(_variants_of(family)), rng.choice(_variants_of(given))
            changes.append("another spelling")
            if rng.random() < 0.3:
                family = _typo(rng, family)
                changes.append("typo in the family name")
            elif rng.random() < 0.2:
                given = _typo(rng, given)
                changes.append("typo in the given name")
            if rng.random() < 0.3:
                family, given = family.upper(), given.upper()
        if rng.random() < 0.15:
            family, given = given, family
            changes.append("names swapped")
        if " " in given and rng.random() < 0.5:
            given = rng.choice(given.split(" "))
            changes.append("one given name left out")
        born: date | None = person.date_of_birth
        roll = rng.random()
        if born is None or roll < 0.2:
            born = None
            changes.append("no date of birth")
        elif roll < 0.3 and born.day <= 12 and born.day != born.month:
            born = date(born.year, born.day, born.month)
            changes.append("day and month swapped")
        elif roll < 0.4 and not (born.month == 2 and born.day == 29):
            born = born.replace(year=born.year + rng.choice((-1, 1)))
            changes.append("year one off")
        query = PersonQuery(names=(PersonName(family_name=family or None, given_names=given or None),),
                            date_of_birth=born)  # fmt: skip
        out.append(Labelled(query, index, tuple(changes)))
    return out


# Family names made of a script's syllables: a wanted-persons list of 200,000 has tens of
# thousands of surnames, not the list's hundred; given names stay the list's (they are that common).
_SYLLABLES = {
    "latn": ("ba", "ro", "mi", "ka", "de", "lu", "sa", "to", "ne", "vi", "gar", "mon", "ler", "ten", "ski", "son",
             "ez", "ic", "ber", "al", "do", "fer", "go", "han", "jo", "kir", "mar", "nor", "pe", "ri", "sto", "wen"),
    "cyrl": ("ко", "ва", "ле", "ни", "ро", "ски", "ен", "ма", "ша", "ти", "бо", "го", "да", "жу", "за", "ми",
             "па", "се", "ту", "фе", "хо", "че", "лу", "ря"),
    "arab": ("حم", "سا", "ري", "مد", "كر", "نا", "عب", "ود", "ين", "شا", "زي", "قا", "طا", "فر", "لي", "جم",
             "بد", "رح", "سل", "هد", "غا", "ضي", "تو", "خل"),
    "grek": ("πα", "δο", "που", "κο", "στα", "νι", "μα", "θε", "ρο", "λα", "κα", "τσ", "γε", "δη", "φι", "χα"),
}  # fmt: skip
_ENDINGS = {"latn": ("", "", "a", "o", "er"), "cyrl": ("ов", "ев", "ин", "ова", "енко"), "arab": ("", "ي", "ان"),
            "grek": ("ος", "ης", "ου", "ίδης")}  # fmt: skip


POPULATION_SHARE = {"latn": 0.40, "arab": 0.35, "cyrl": 0.18, "grek": 0.07}  # an assumption, not a statistic


def population(count: int, *, seed: int = 21, common_share: float = 0.3) -> list[WantedPerson]:
    """`count` wanted persons for a benchmark: surnames mostly generated, `common_share` from the list."""
    rng = random.Random(seed)
    by_script: dict[str, dict[str, list[NameVariants]]] = {}
    for v in name_variants():
        by_script.setdefault(v.script, {}).setdefault(v.part, []).append(v)
    scripts = sorted(by_script)
    weights = [POPULATION_SHARE[script] for script in scripts]
    people = []
    for _ in range(count):
        script = rng.choices(scripts, weights)[0]
        given_list = by_script[script]["given"]
        given = " ".join(rng.choice(given_list).native for _ in range(1 + (rng.random() < 0.4)))
        if rng.random() < common_share:
            family = rng.choice(by_script[script]["family"]).native
        else:
            syllables = _SYLLABLES[script]
            family = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))) + rng.choice(_ENDINGS[script])
            family = family[:1].upper() + family[1:]
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
        people.append(WantedPerson(names=(PersonName(family_name=family, given_names=given),), date_of_birth=born,
                                   nationalities=(SCRIPTS[script],)))  # fmt: skip
    return people
