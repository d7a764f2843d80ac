"""Language of a case: BCP 47 normalisation, and detection on a labelled set written for these tests.

tests/data/language_samples.csv: 260 short police-style messages, 65 per language, including
very short ones with names, plates and serial numbers (the hard cases for a detector).
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ccc_support import bearer, case_for_message, message, send_to_ccc
from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.testing.harness import wait_until
from interpol_offices.ccc_router.language import detect, normalise_tag, resolve

SAMPLES = Path(__file__).parent / "data" / "language_samples.csv"
LANGS = ("en", "ar", "es", "fr")


def samples() -> list[tuple[str, str]]:
    with SAMPLES.open(newline="", encoding="utf-8") as handle:
        return [(row["language"], row["text"]) for row in csv.DictReader(handle)]


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("fr-FR", "fr"), ("fr-CA", "fr"), ("es-419", "es"), ("es-AR", "es"), ("ar-EG", "ar"), ("ar-SA", "ar"),
        ("en-GB", "en"), ("EN-us", "en"), ("en", "en"), ("es_MX", "es"), ("ara", "ar"), ("fre", "fr"), ("arz", "ar"),
        ("ar-Latn", "ar"), ("pt-BR", None), ("de", None), ("und", None), ("", None), (None, None),
    ],
)  # fmt: skip
def test_bcp47_tags_normalise_to_the_four_languages(tag: str | None, expected: str | None) -> None:
    assert normalise_tag(tag)[0] == expected


def test_untagged_texts_are_detected_at_least_95_percent(record_property: pytest.RecordProperty) -> None:
    rows = samples()
    counts = Counter(lang for lang, _ in rows)  # a measure on too few texts would say nothing
    assert sum(counts.values()) >= 200 and all(counts[lang] >= 50 for lang in LANGS), counts
    wrong = [(lang, got, text) for lang, text in rows if (got := detect(text)[0]) != lang]
    accuracy = 1 - len(wrong) / len(rows)
    per_language = {
        lang: 1 - sum(1 for w in wrong if w[0] == lang) / sum(1 for r in rows if r[0] == lang) for lang in LANGS
    }
    record_property("detection_accuracy", accuracy)
    print(f"\nlanguage detection: {len(rows) - len(wrong)}/{len(rows)} = {accuracy:.1%}; per language {per_language}")
    assert accuracy >= 0.95, wrong


def test_a_correct_tag_is_never_overruled_and_a_wrong_one_is_on_clear_text() -> None:
    rows = samples()
    assert [t for lang, t in rows if resolve(lang, t).language != lang] == []
    long_rows = [(lang, t) for lang, t in rows if sum(ch.isalpha() for ch in t) >= 40]
    corrected = sum(1 for lang, t in long_rows for tag in LANGS if tag != lang and resolve(tag, t).language == lang)
    assert corrected / (3 * len(long_rows)) >= 0.95
    # Script is unambiguous even on a short text: Latin tagged Arabic, Arabic tagged French.
    assert resolve("ar", "Suspect in custody.").language == "en"
    assert resolve("fr", "المشتبه به محتجز.").language == "ar"
    weak = resolve("fr-FR", "OK 4471-X")
    assert weak.language == "fr" and weak.source == "tag"
    missing = resolve(None, "Sospechoso bajo custodia.")
    assert (missing.language, missing.source) == ("es", "detected")
    nothing = resolve("pt-BR", "12345")
    assert (nothing.language, nothing.source) == ("en", "default")


async def test_a_message_tagged_english_but_written_in_spanish_goes_to_a_spanish_speaker(
    make_mesh: MeshFactory,
) -> None:
    clock = FakeClock(datetime(2026, 3, 4, 18, 30, tzinfo=UTC))  # Wednesday, Buenos Aires on duty
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "ncb.ar")
    mid = await send_to_ccc(
        mesh, "ncb.ar",
        message("Detenido en Ezeiza", "Sospechoso detenido en el aeropuerto de Ezeiza con pasaporte falso; solicitamos confirmación urgente."),
        kind="message", language="en-US", priority="urgent",
    )  # fmt: skip
    case = await wait_until(lambda: case_for_message(mesh, mid), what="case")
    assert (case["language"], case["desk"], case["assigned_to"]) == ("es", "desk.buenos-aires", "ba.fernandez")
    assert case["language_decision"]["source"] == "detected-over-tag"
    created = await mesh.client("ccc").post(
        "/v1/cases",
        json={
            "title": "Appel",
            "text": "Individu interpellé au poste frontière, merci de rappeler le BCN.",
            "priority": "urgent",
        },
        headers=bearer(mesh, "ba.gomez"),
    )
    assert created.status_code == 201
    assert (created.json()["language"], created.json()["assigned_to"]) == ("fr", "ba.moreau")
    assert created.json()["language_decision"]["source"] == "detected"
