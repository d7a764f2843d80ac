"""Held-out evaluation of the CCC's language decision (`language.resolve`).

Why a separate set: the rules in `language.py` are tuned on their own samples, so their own tests
cannot tell whether they generalise. `tests/data/language_eval.csv` was written apart from those
samples (and before any run against the rules), weighted towards the texts that break detectors:
names in capitals, identifier-dense lines, telex capitals without accents, Arabic quoting Latin
script, and short lines of words shared by English, French and Spanish.

Each message is decided three ways, because each answers a different operational question:

- **untagged** (tag None): can the CCC route a message whose header carries no language?
- **correctly tagged** (a realistic spelling of the right tag, rotated): does a right tag survive?
  A right tag overruled by the detector sends a case to the wrong desk, so the target is 100 %.
- **wrongly tagged** (a wrong tag chosen deterministically from the id): is a wrong header caught?
  Reported only; trusting a tag on short text is a legitimate policy choice.

Run: `python -m interpol_offices.ccc_router.language_eval [--csv PATH] [--json OUT]`.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from interpol_offices.ccc_router.language import LanguageDecision, resolve

KINDS: tuple[str, ...] = (
    "names-caps",
    "identifiers",
    "telex",
    "arabic-quoting-latin",
    "short-shared-words",
    "plain",
)
LANGUAGES: tuple[str, ...] = ("en", "ar", "es", "fr")
HEADER: tuple[str, ...] = ("id", "kind", "language", "text")

# Spellings seen in real message headers (BCP 47 with regions, ISO 639-2/T). Rotated so every
# spelling is exercised on every kind rather than one spelling hiding another's failure.
TAG_SPELLINGS: dict[str, tuple[str, ...]] = {
    "en": ("en-GB", "en", "en-US", "eng"),
    "fr": ("fr-FR", "fr", "fra", "fr-CA", "fr-BE"),
    "es": ("es-419", "es", "spa", "es-ES", "es-MX"),
    "ar": ("ar-EG", "ar", "ara", "ar-SA", "ar-MA"),
}

# The checked-in set, found from this module's place in the source tree (services/ccc_router/).
DEFAULT_CSV = Path(__file__).resolve().parents[2] / "tests" / "data" / "language_eval.csv"


class EvalSetError(ValueError):
    """A row of the evaluation set is malformed; the message names the file, line and row id."""


@dataclass(frozen=True)
class EvalRow:
    """One labelled message: `language` is what a police reader would say the text is written in."""

    id: str
    kind: str
    language: str
    text: str


@dataclass(frozen=True)
class Miss:
    """A decision that differs from the label, with the decision's own note to say why."""

    id: str
    kind: str
    mode: str  # "untagged", "correct-tag" or "wrong-tag"
    tag: str | None
    expected: str
    got: str
    note: str


@dataclass
class Tally:
    """Counts for one group of rows (a kind, a language, or all)."""

    n: int = 0
    untagged_ok: int = 0
    kept_ok: int = 0
    corrected_ok: int = 0

    def pct(self, count: int) -> float:
        """Percentage of the group; an empty group counts as 100 % (nothing failed)."""
        return 100.0 * count / self.n if self.n else 100.0


@dataclass
class EvalResult:
    """Tallies per kind, per language and overall, and every miss in row order."""

    overall: Tally = field(default_factory=Tally)
    by_kind: dict[str, Tally] = field(default_factory=dict)
    by_language: dict[str, Tally] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)

    @property
    def untagged_accuracy(self) -> float:
        """Share of messages whose untagged decision matches the label, in %."""
        return self.overall.pct(self.overall.untagged_ok)

    @property
    def correct_tags_kept(self) -> float:
        """Share of correctly tagged messages decided as their tag's language, in %."""
        return self.overall.pct(self.overall.kept_ok)

    @property
    def wrong_tags_corrected(self) -> float:
        """Share of wrongly tagged messages decided as their real language, in %."""
        return self.overall.pct(self.overall.corrected_ok)


def load(path: Path = DEFAULT_CSV) -> list[EvalRow]:
    """Read and validate the set; the first bad row raises one `EvalSetError` naming it.

    Validated strictly because a silently skipped or mislabelled row would move the figures
    that decide whether the rules are good enough.
    """
    rows: list[EvalRow] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(header) != HEADER:
            raise EvalSetError(f"{path}:1: header must be {','.join(HEADER)!r}, got {header!r}")
        for record in reader:
            line = reader.line_num
            if not record:
                continue
            rid = record[0].strip() if record else ""
            where = f"{path}:{line}: row {rid or '<no id>'!r}"
            if len(record) != len(HEADER):
                raise EvalSetError(f"{where}: expected {len(HEADER)} fields, got {len(record)}")
            _, kind, language, text = record
            if not rid:
                raise EvalSetError(f"{where}: empty id")
            if rid in seen:
                raise EvalSetError(f"{where}: duplicate id (first on line {seen[rid]})")
            if kind not in KINDS:
                raise EvalSetError(f"{where}: unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
            if language not in LANGUAGES:
                raise EvalSetError(f"{where}: unknown language {language!r} (expected one of {', '.join(LANGUAGES)})")
            if not text.strip():
                raise EvalSetError(f"{where}: empty text")
            seen[rid] = line
            rows.append(EvalRow(id=rid, kind=kind, language=language, text=text))
    return rows


def wrong_tag_for(row: EvalRow) -> str:
    """A wrong tag for the row, fixed by its id (CRC-32) so runs are comparable."""
    others = [lang for lang in LANGUAGES if lang != row.language]
    digest = zlib.crc32(row.id.encode("utf-8"))
    wrong = others[digest % len(others)]
    spellings = TAG_SPELLINGS[wrong]
    return spellings[(digest // len(others)) % len(spellings)]


def evaluate(rows: Iterable[EvalRow]) -> EvalResult:
    """Decide every row untagged, correctly tagged and wrongly tagged, and tally the outcomes."""
    result = EvalResult()
    rotation: dict[str, int] = {}
    for row in rows:
        index = rotation.get(row.language, 0)
        rotation[row.language] = index + 1
        right = TAG_SPELLINGS[row.language][index % len(TAG_SPELLINGS[row.language])]
        wrong = wrong_tag_for(row)
        trials: list[tuple[str, str | None]] = [("untagged", None), ("correct-tag", right), ("wrong-tag", wrong)]
        ok: dict[str, bool] = {}
        for mode, tag in trials:
            decision = resolve(tag, row.text)
            ok[mode] = decision.language == row.language
            if not ok[mode]:
                result.misses.append(_miss(row, mode, tag, decision))
        for tally in (
            result.overall,
            result.by_kind.setdefault(row.kind, Tally()),
            result.by_language.setdefault(row.language, Tally()),
        ):
            tally.n += 1
            tally.untagged_ok += ok["untagged"]
            tally.kept_ok += ok["correct-tag"]
            tally.corrected_ok += ok["wrong-tag"]
    return result


def _miss(row: EvalRow, mode: str, tag: str | None, decision: LanguageDecision) -> Miss:
    """Record a miss with the decision's note, when the decision carries one."""
    note = getattr(decision, "note", "") or ""
    return Miss(
        id=row.id, kind=row.kind, mode=mode, tag=tag, expected=row.language, got=str(decision.language), note=note
    )


def format_table(result: EvalResult) -> str:
    """The per-kind and per-language table, then the two overall target lines."""
    lines = [f"{'group':<24} {'n':>4} {'untagged':>9} {'tag kept':>9} {'wrong fixed':>12}"]

    def add(name: str, tally: Tally) -> None:
        lines.append(
            f"{name:<24} {tally.n:>4} {tally.pct(tally.untagged_ok):>8.1f}% "
            f"{tally.pct(tally.kept_ok):>8.1f}% {tally.pct(tally.corrected_ok):>11.1f}%"
        )

    for kind in KINDS:
        if kind in result.by_kind:
            add(f"kind {kind}", result.by_kind[kind])
    for language in LANGUAGES:
        if language in result.by_language:
            add(f"language {language}", result.by_language[language])
    add("all", result.overall)
    lines.append(f"untagged accuracy: {result.untagged_accuracy:.1f}%")
    lines.append(f"correct tags kept: {result.correct_tags_kept:.1f}%")
    lines.append(f"wrong tags corrected: {result.wrong_tags_corrected:.1f}%")
    return "\n".join(lines)


def format_misses(misses: Sequence[Miss], modes: Sequence[str] = ("untagged", "correct-tag")) -> str:
    """One line per miss in the given modes (by default the two with targets)."""
    chosen = [miss for miss in misses if miss.mode in modes]
    if not chosen:
        return "misses: none"
    lines = [f"misses ({len(chosen)}):"]
    for miss in chosen:
        tag = f" tag={miss.tag}" if miss.tag else ""
        note = f"  note: {miss.note}" if miss.note else ""
        lines.append(f"  {miss.id} [{miss.kind}] {miss.mode}{tag}: expected {miss.expected}, got {miss.got}{note}")
    return "\n".join(lines)


def to_json(result: EvalResult) -> dict[str, object]:
    """The full result, wrong-tag misses included, for comparing runs across branches."""

    def figures(tally: Tally) -> dict[str, float | int]:
        return {
            "n": tally.n,
            "untagged_accuracy": round(tally.pct(tally.untagged_ok), 2),
            "correct_tag_kept": round(tally.pct(tally.kept_ok), 2),
            "wrong_tag_corrected": round(tally.pct(tally.corrected_ok), 2),
        }

    return {
        "overall": figures(result.overall),
        "by_kind": {kind: figures(tally) for kind, tally in result.by_kind.items()},
        "by_language": {lang: figures(tally) for lang, tally in result.by_language.items()},
        "misses": [asdict(miss) for miss in result.misses],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table and the misses; exit 0 always (the targets are asserted by the test)."""
    parser = argparse.ArgumentParser(description="Evaluate the CCC language decision on the held-out set.")
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="labelled set (id,kind,language,text)")
    parser.add_argument("--json", type=Path, default=None, help="write the full result as JSON to this file")
    args = parser.parse_args(argv)
    try:
        rows = load(args.csv)
    except EvalSetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = evaluate(rows)
    print(format_table(result))
    print(format_misses(result.misses))
    if args.json is not None:
        args.json.write_text(json.dumps(to_json(result), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
