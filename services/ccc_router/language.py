"""Which of the four CCC languages a case is in: the sender's BCP 47 tag, checked against the text.

The tag is the sender's claim; the text is the evidence. A missing or unusable tag is
replaced by detection (lingua, restricted to en/ar/es/fr, offline). A tag is overruled only
when the detector is confident on a text long enough to judge, because short texts full of
names, plates and codes are exactly where detectors guess; or when the script itself
contradicts it (Arabic text tagged fr, Latin text tagged ar), which needs no guessing.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Any, Literal

from lingua import Language as LinguaLanguage
from lingua import LanguageDetector, LanguageDetectorBuilder

from interpol_mesh.directory import Language

Source = Literal["tag", "tag-confirmed", "detected", "detected-over-tag", "default"]

_TO_LINGUA: dict[Language, LinguaLanguage] = {
    "en": LinguaLanguage.ENGLISH,
    "ar": LinguaLanguage.ARABIC,
    "es": LinguaLanguage.SPANISH,
    "fr": LinguaLanguage.FRENCH,
}
_FROM_LINGUA: dict[LinguaLanguage, Language] = {v: k for k, v in _TO_LINGUA.items()}
# ISO 639-2/3 codes and Arabic varieties (ISO 639-3 members of the macrolanguage `ar`).
_ALIASES: dict[str, Language] = {
    "en": "en", "ar": "ar", "es": "es", "fr": "fr", "eng": "en", "ara": "ar", "spa": "es", "fra": "fr", "fre": "fr",
    "arb": "ar", "arz": "ar", "apc": "ar", "ajp": "ar", "acm": "ar", "ary": "ar", "aeb": "ar",
    "afb": "ar", "apd": "ar", "ayl": "ar", "arq": "ar", "acw": "ar", "ars": "ar",
}  # fmt: skip
MIN_LETTERS_TO_OVERRULE = 20
OVERRULE_CONFIDENCE = 0.90
MIN_LETTERS_FOR_SCRIPT = 8


def normalise_tag(tag: str | None) -> tuple[Language | None, str]:
    """BCP 47 tag -> one of en/ar/es/fr, or None with the reason (`pt-BR`, `und`, empty)."""
    if tag is None or not tag.strip():
        return None, "no language tag"
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    if primary in _ALIASES:
        return _ALIASES[primary], f"tag {tag} -> {_ALIASES[primary]}"
    if primary in ("und", "mul", "zxx", "mis"):
        return None, f"tag {tag} names no language"
    return None, f"tag {tag}: {primary} is not a CCC working language (en, ar, es, fr)"


@functools.cache
def detector() -> LanguageDetector:
    """Built once per process (about 0.7 s with preloaded models)."""
    return LanguageDetectorBuilder.from_languages(*_TO_LINGUA.values()).with_preloaded_language_models().build()


def detect(text: str) -> tuple[Language | None, float]:
    """Most likely of the four languages and its confidence; None for text with no letters."""
    if not any(ch.isalpha() for ch in text):
        return None, 0.0
    values = detector().compute_language_confidence_values(text)
    if not values:
        return None, 0.0
    best = values[0]
    return _FROM_LINGUA[best.language], float(best.value)


def _script_contradicts(tag_language: Language, text: str) -> bool:
    """Arabic script against a Latin-script tag (or the reverse) is unambiguous even when short."""
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < MIN_LETTERS_FOR_SCRIPT:
        return False
    arabic = sum(1 for ch in letters if "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f") / len(letters)
    return arabic < 0.2 if tag_language == "ar" else arabic > 0.8


@dataclass(frozen=True)
class LanguageDecision:
    language: Language
    source: Source
    tag: str | None
    tag_language: Language | None
    detected: Language | None
    confidence: float
    note: str

    def record(self) -> dict[str, Any]:
        data = asdict(self)
        data["confidence"] = round(self.confidence, 3)
        return data


def resolve(tag: str | None, text: str, *, default: Language = "en") -> LanguageDecision:
    """Decide the case language and say how it was decided (stored on the case)."""
    tag_language, tag_note = normalise_tag(tag)
    detected, confidence = detect(text) if text.strip() else (None, 0.0)
    letters = sum(ch.isalpha() for ch in text)
    if tag_language is None:
        if detected is not None:
            return LanguageDecision(
                detected, "detected", tag, None, detected, confidence, f"{tag_note}; detected {detected}"
            )
        return LanguageDecision(
            default, "default", tag, None, None, 0.0, f"{tag_note}; no text to detect; default {default}"
        )
    if detected is None or detected == tag_language:
        source: Source = "tag-confirmed" if detected == tag_language else "tag"
        return LanguageDecision(tag_language, source, tag, tag_language, detected, confidence, tag_note)
    if (letters >= MIN_LETTERS_TO_OVERRULE and confidence >= OVERRULE_CONFIDENCE) or _script_contradicts(
        tag_language, text
    ):
        note = f"{tag_note}, but the text is {detected} (confidence {confidence:.2f}): tag overruled"
        return LanguageDecision(detected, "detected-over-tag", tag, tag_language, detected, confidence, note)
    note = f"{tag_note}; detector said {detected} ({confidence:.2f}) on {letters} letters, too weak to overrule"
    return LanguageDecision(tag_language, "tag", tag, tag_language, detected, confidence, note)
