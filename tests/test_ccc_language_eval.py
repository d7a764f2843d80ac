"""The CCC's language decision measured on the held-out set (tests/data/language_eval.csv).

Pure: no bus, no database. The set was written apart from the rules' own samples, so these
targets say whether the rules generalise, not whether they fit what they were tuned on.
Run with `-s` to see the per-kind table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from interpol_offices.ccc_router.language_eval import (
    DEFAULT_CSV,
    KINDS,
    LANGUAGES,
    EvalSetError,
    evaluate,
    format_misses,
    format_table,
    load,
)

UNTAGGED_TARGET = 99.0
KEPT_TARGET = 100.0


def test_the_set_is_balanced_and_weighted_to_hard_kinds() -> None:
    """At least 100 messages per language, every kind present, at most ~10 % plain prose."""
    rows = load(DEFAULT_CSV)
    for language in LANGUAGES:
        assert sum(row.language == language for row in rows) >= 100, language
    assert {row.kind for row in rows} == set(KINDS)
    assert sum(row.kind == "plain" for row in rows) <= 0.1 * len(rows)


def test_language_decision_meets_targets_on_the_held_out_set() -> None:
    """Untagged accuracy >= 99 % and every correct tag kept; the misses are the failure message."""
    result = evaluate(load(DEFAULT_CSV))
    print()
    print(format_table(result))
    misses = format_misses(result.misses)
    print(misses)
    assert result.untagged_accuracy >= UNTAGGED_TARGET and result.correct_tags_kept >= KEPT_TARGET, (
        f"untagged accuracy {result.untagged_accuracy:.1f}% (target {UNTAGGED_TARGET}%), "
        f"correct tags kept {result.correct_tags_kept:.1f}% (target {KEPT_TARGET}%)\n{misses}"
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("x-2,poetry,en,Some text", "unknown kind 'poetry'"),
        ("x-2,plain,de,Guten Tag", "unknown language 'de'"),
        ("x-2,plain,en,   ", "empty text"),
        ("x-1,plain,en,Again", "duplicate id"),
        ("x-2,plain,en", "expected 4 fields, got 3"),
    ],
)
def test_a_malformed_row_is_one_clear_error_naming_it(tmp_path: Path, row: str, reason: str) -> None:
    """A bad row stops the load with one error that names the file, the line and the row id."""
    path = tmp_path / "bad.csv"
    path.write_text(f"id,kind,language,text\nx-1,plain,en,Fine text\n{row}\n", encoding="utf-8")
    with pytest.raises(EvalSetError) as caught:
        load(path)
    message = str(caught.value)
    assert reason in message
    assert f"{path}:3: row" in message
    assert "x-" in message
