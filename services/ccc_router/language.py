"""Which of the four CCC languages a case is in: the sender's BCP 47 tag, checked against the text.

The tag is the sender's claim; the text is the evidence. Police texts carry much that has no
language: identifiers (identifiers.py: e-mail, URLs, dates, document numbers, plates...) and
personal names in capitals (names.py). Both are set aside first; only the remainder is evidence,
so a French message about JOHNSON Michael stays French. Then script before statistics: a
remainder at least a third Arabic letters is Arabic, however many Latin names it quotes.
A Latin remainder goes to lingua restricted to en/es/fr; when lingua is unsure, the text's own
function words and accents decide. A tag is overruled only by strong evidence on the remainder
(lingua confident on enough letters, or fairly confident and seconded by the text's own words),
or by its script (Arabic remainder tagged fr, Latin remainder tagged ar; against a Latin tag only
Arabic a quoted name cannot be). A remainder in a script none of the four uses (Greek, Cyrillic)
is no evidence: the tag is kept, an untagged text gets the default. Every decision carries
a `reason` from a closed set and counts of what was set aside (README, "Language decision").
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from lingua import Language as LinguaLanguage
from lingua import LanguageDetector, LanguageDetectorBuilder

from interpol_mesh.directory import Language
from interpol_offices.ccc_router.identifiers import find_identifiers, without_identifiers
from interpol_offices.ccc_router.names import arabic_sentence_marks, find_names, is_arabic_letter, is_telex

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
# Or: lingua at least this sure on this many letters, and the text's own words agree with it.
SECONDED_CONFIDENCE = 0.70
MIN_LETTERS_SECONDED = 10
MIN_LETTERS_FOR_SCRIPT = 8
# Arabic letters at least this share of the language-carrying letters: the text is Arabic (what
# Latin is left in an Arabic message is quoted places and names the name rule could not see).
ARABIC_SHARE = 1 / 3
# Against a Latin-script tag, Arabic script overrules when it is at least half of the remainder.
ARABIC_SHARE_OVER_TAG = 0.5
MIN_ARABIC_LETTERS_OVER_TAG = 4  # one Arabic word
# And it must be Arabic a name cannot be: Arabic function words or punctuation, or at least this
# many Arabic words with the Latin under this share of the remainder.
MIN_ARABIC_WORDS_OVER_TAG = 3
LATIN_SHARE_SHORT = 1 / 3
# Letters in scripts none of the four languages uses (Greek, Cyrillic, Han...) at least this share of
# the remainder, or lingua near zero for all three: the detector has no evidence.
FOREIGN_SHARE = 0.5
NO_EVIDENCE_CONFIDENCE = 0.01
# Words of Arabic names (`محمد بن علي`, `عبد الله`), not counted as Arabic words against a tag.
_ARABIC_NAME_PARTICLES = frozenset(("بن", "بنت", "ابن", "أبو", "ابو", "عبد", "آل"))

# When lingua is unsure on the Latin remainder, words and marks only one language has decide:
# very common function words (accents stripped, as telex writes them; `l` and `d` are French
# elisions, `l'aeroport` or telex `L AEROPORT`) and letters with accents.
UNSURE_BELOW = 0.80
_OWN_WORDS: dict[Language, frozenset[str]] = {
    "en": frozenset((
        "the", "of", "and", "to", "is", "was", "were", "for", "with", "from", "this", "that", "are", "have", "has",
        "been", "will", "would", "please", "thanks", "thank", "you", "your", "our", "we", "not", "by", "it", "its",
        "his", "her", "he", "she", "they", "who", "which", "at", "in"
    )),
    "fr": frozenset((
        "le", "les", "des", "du", "et", "est", "une", "au", "aux", "pour", "avec", "sur", "dans", "par", "pas",
        "qui", "nous", "vous", "votre", "notre", "vos", "nos", "ce", "cette", "cet", "ces", "il", "elle", "sont",
        "ete", "merci", "recu", "svp", "stp", "mais", "ou", "leur", "l", "d", "qu"
    )),
    "es": frozenset((
        "el", "los", "las", "del", "y", "es", "una", "por", "para", "con", "su", "sus", "nuestro", "nuestra",
        "rogamos", "gracias", "esta", "fue", "ha", "al", "lo", "muy", "pero", "como", "este", "sobre", "tras",
        "favor"
    )),
}  # fmt: skip
_OWN_MARKS: dict[Language, frozenset[str]] = {"fr": frozenset("èêàâîôûçëïùœ"), "es": frozenset("ñ¿¡áíóú")}

Reason = Literal[
    "tag-confirmed", "tag-kept-weak-evidence", "tag-kept-names-only", "tag-kept-no-text", "script-over-tag",
    "detected-over-tag", "script-arabic", "detected", "detected-names-only", "default-no-text",
    "tag-kept-no-evidence", "default-other-script",
]  # fmt: skip


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
    """Built once per process (about 0.7 s with preloaded models); role.py calls it at start-up, so
    it builds the en/es/fr detector too, which `resolve` uses on Latin text."""
    _latin_detector()
    return LanguageDetectorBuilder.from_languages(*_TO_LINGUA.values()).with_preloaded_language_models().build()


@functools.cache
def _latin_detector() -> LanguageDetector:
    """en/es/fr only: once the script says Latin, Arabic is no longer a candidate."""
    latin = [_TO_LINGUA[lang] for lang in ("en", "es", "fr")]
    return LanguageDetectorBuilder.from_languages(*latin).with_preloaded_language_models().build()


def detect(text: str) -> tuple[Language | None, float]:
    """Most likely of the four languages and its confidence; None for text with no letters."""
    return _best(detector(), text)


def _best(engine: LanguageDetector, text: str) -> tuple[Language | None, float]:
    if not any(ch.isalpha() for ch in text):
        return None, 0.0
    values = engine.compute_language_confidence_values(text)
    if not values:
        return None, 0.0
    best = values[0]
    return _FROM_LINGUA[best.language], float(best.value)


_is_arabic = is_arabic_letter


def _is_latin(ch: str) -> bool:
    """Latin letters (Basic to Extended-B, IPA, Extended Additional/C/D, fullwidth)."""
    code = ord(ch)
    return (
        code < 0x0250
        or 0x1E00 <= code <= 0x1EFF
        or 0x2C60 <= code <= 0x2C7F
        or 0xA720 <= code <= 0xA7FF
        or 0xFF21 <= code <= 0xFF5A
    )


def _script_name(ch: str) -> str:
    """`Greek`, `Cyrillic`, `Cjk`...: the first word of the letter's Unicode name."""
    return unicodedata.name(ch, "UNKNOWN").split()[0].capitalize()


@dataclass(frozen=True)
class Evidence:
    """What in the text carries language, once identifiers and names are set aside."""

    remainder: str  # the language-carrying text (lower-cased when the text is telex-style)
    letters: int  # letters in the remainder
    arabic: int  # of which Arabic script
    set_aside: dict[str, int]  # counts per kind: email, url, date, ..., name
    telex: bool
    foreign: int = 0  # of which in a script none of the four languages uses (Greek, Cyrillic, Han...)
    arabic_marks: int = 0  # Arabic function words and punctuation: Arabic no name is
    arabic_words: int = 0  # Arabic words in the remainder, name particles (`بن`, `عبد`) left out
    latin_in_text: int = 0  # Latin letters in the whole text (identifiers aside), names included
    arabic_in_text: int = 0  # Arabic letters in the whole text (identifiers aside), names included

    @property
    def arabic_share(self) -> float:
        return self.arabic / self.letters if self.letters else 0.0

    @property
    def foreign_share(self) -> float:
        return self.foreign / self.letters if self.letters else 0.0

    def foreign_script(self) -> str:
        """The script of the remainder's first foreign letter (for the note)."""
        return next((_script_name(ch) for ch in self.remainder if ch.isalpha() and not _is_latin(ch)), "Unknown")


def evidence(text: str) -> Evidence:
    """Set aside identifiers, then capitals names (not in a telex text, where capitals are the language)."""
    found = find_identifiers(text)
    counts = Counter[str](ident.kind for ident in found)
    stripped = without_identifiers(text)
    telex = is_telex(stripped)
    spans = find_names(stripped)
    counts.update("name" for _ in spans)
    parts, last = [], 0
    for span in spans:
        parts.append(stripped[last : span.start])
        parts.append(" ")
        last = span.end
    parts.append(stripped[last:])
    remainder = " ".join("".join(parts).split())
    if telex:  # read as telex writes: lower-cased, without accents (those left are names' own spelling)
        decomposed = unicodedata.normalize("NFKD", remainder.lower())
        remainder = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))
    letters = [ch for ch in remainder if ch.isalpha()]
    arabic = sum(map(_is_arabic, letters))
    foreign = sum(1 for ch in letters if not _is_latin(ch) and not _is_arabic(ch))
    words = sum(1 for w in remainder.split() if any(map(_is_arabic, w)) and w not in _ARABIC_NAME_PARTICLES)
    marks = arabic_sentence_marks(remainder)
    latin_in_text = sum(1 for ch in stripped if ch.isalpha() and _is_latin(ch))
    arabic_in_text = sum(1 for ch in stripped if ch.isalpha() and _is_arabic(ch))
    return Evidence(
        remainder, len(letters), arabic, dict(counts), telex, foreign, marks, words, latin_in_text, arabic_in_text
    )


def judge(ev: Evidence) -> tuple[Language | None, float, str]:
    """The remainder's language: by script first, then lingua among the Latin three.

    Returns (language, confidence, how): how is `script` when the Arabic share decided it, and
    `foreign` (language None) when the remainder gives the detector no evidence: mostly in a script
    none of the four uses, or lingua near zero for all three.
    """
    if ev.letters == 0:
        return None, 0.0, "none"
    if ev.arabic_share >= ARABIC_SHARE:
        return "ar", ev.arabic_share, "script"
    if ev.foreign_share >= FOREIGN_SHARE:
        return None, 0.0, "foreign"
    latin_only = "".join(ch for ch in ev.remainder if not ch.isalpha() or _is_latin(ch))
    values = {
        _FROM_LINGUA[v.language]: float(v.value)
        for v in _latin_detector().compute_language_confidence_values(latin_only)
    }
    if not values or max(values.values()) < NO_EVIDENCE_CONFIDENCE:
        return None, 0.0, "foreign"
    language = max(values, key=values.__getitem__)
    # Telex strips accents from its words: accents in a telex text are the names' own spelling.
    by_words = _own_words_vote(latin_only, marks=not ev.telex)
    if values[language] < UNSURE_BELOW and by_words not in (None, language):
        assert by_words is not None
        return by_words, values[by_words], "words"  # lingua unsure and the text's own words disagree
    return language, values[language], "lingua"


def own_word_votes(text: str, *, marks: bool = True) -> dict[Language, int]:
    """Per Latin language: its own function words in the text, plus (`marks`) letters with its own
    accents. Accents are left out when seconding an overrule: names carry them too (José, François)."""
    lowered = text.lower()
    words = {w.strip(".,;:!?¿¡()'\"") for w in lowered.replace("'", " ").replace("’", " ").split()}
    votes = {lang: len(words & own) for lang, own in _OWN_WORDS.items()}
    for lang, own_marks in _OWN_MARKS.items():
        votes[lang] += sum(1 for ch in lowered if ch in own_marks) if marks else 0
    return votes


def _own_words_vote(text: str, *, marks: bool = True) -> Language | None:
    """The one language whose own words (and accents) the text has most of, if there is one."""
    ranked = sorted(own_word_votes(text, marks=marks).items(), key=lambda kv: kv[1], reverse=True)
    return ranked[0][0] if ranked[0][1] > ranked[1][1] else None


@dataclass(frozen=True)
class LanguageDecision:
    """How a case's language was decided; `.record()` is stored on the case and shown in the console.

    `source` is the coarse answer other code reads (tag, tag-confirmed, detected, detected-over-tag,
    default); `reason` says why, from a closed set (`Reason`); `set_aside` counts what was not
    taken as language evidence (identifiers by kind, and `name`).
    """

    language: Language
    source: Source
    tag: str | None
    tag_language: Language | None
    detected: Language | None
    confidence: float
    note: str
    reason: Reason = "detected"
    set_aside: dict[str, int] = field(default_factory=dict)
    evidence_letters: int = 0

    def record(self) -> dict[str, Any]:
        data = asdict(self)
        data["confidence"] = round(self.confidence, 3)
        return data


_HOW = {
    "script": "script", "lingua": "lingua", "words": "its own words (lingua unsure)", "none": "nothing",
    "foreign": "nothing",
}  # fmt: skip


def _aside_note(ev: Evidence) -> str:
    telex = "; telex-style capitals, read lower-cased" if ev.telex else ""
    if not ev.set_aside:
        return telex
    listed = ", ".join(f"{n} {kind}" for kind, n in sorted(ev.set_aside.items()))
    return f"{telex}; set aside {listed}"


def resolve(tag: str | None, text: str, *, default: Language = "en") -> LanguageDecision:
    """Decide the case language and say how it was decided (stored on the case).

    Only the language-carrying remainder (no identifiers, no capitals names) can overrule a tag;
    names alone never do, since a French message about JOHNSON Michael is still French.
    """
    tag_language, tag_note = normalise_tag(tag)
    ev = evidence(text)
    detected, confidence, how = judge(ev)
    aside = _aside_note(ev)
    has_letters = any(ch.isalpha() for ch in text)

    def decision(language: Language, source: Source, reason: Reason, note: str) -> LanguageDecision:
        return LanguageDecision(
            language, source, tag, tag_language, detected, confidence, note + aside, reason, ev.set_aside, ev.letters
        )

    if how == "foreign":
        script = ev.foreign_script() if ev.foreign else "Latin"
        what = f"the text is in {script} script, used by none of en/ar/es/fr: no evidence"
        if tag_language is not None:
            return decision(tag_language, "tag", "tag-kept-no-evidence", f"{tag_note}; {what}")
        return decision(default, "default", "default-other-script", f"{tag_note}; {what}; default {default}")
    if tag_language is None:
        if detected is not None:
            reason: Reason = "script-arabic" if how == "script" else "detected"
            return decision(detected, "detected", reason, f"{tag_note}; detected {detected} by {_HOW[how]}")
        if has_letters:
            # Nothing but names and codes: the best guess is still the text as written.
            whole, confidence = detect(text)
            assert whole is not None
            detected = whole
            return decision(
                whole, "detected", "detected-names-only", f"{tag_note}; only names and codes; guessed {whole}"
            )
        return decision(default, "default", "default-no-text", f"{tag_note}; no text to detect; default {default}")
    if detected is None:
        reason = "tag-kept-names-only" if has_letters else "tag-kept-no-text"
        return decision(tag_language, "tag", reason, f"{tag_note}; nothing but names and codes to check it against")
    if detected == tag_language:
        return decision(tag_language, "tag-confirmed", "tag-confirmed", tag_note)
    if _script_contradicts(tag_language, ev):
        note = f"{tag_note}, but the text is in {'Arabic' if detected == 'ar' else 'Latin'} script: tag overruled"
        return decision(detected, "detected-over-tag", "script-over-tag", note)
    if (
        how == "lingua"
        and tag_language != "ar"
        and detected != "ar"
        and _strong(ev, detected, confidence, tag_language)
    ):
        note = f"{tag_note}, but the text is {detected} (confidence {confidence:.2f}): tag overruled"
        return decision(detected, "detected-over-tag", "detected-over-tag", note)
    note = f"{tag_note}; detector said {detected} ({confidence:.2f}) on {ev.letters} letters, too weak to overrule"
    return decision(tag_language, "tag", "tag-kept-weak-evidence", note)


def _strong(ev: Evidence, detected: Language, confidence: float, tag_language: Language) -> bool:
    """Enough to overrule a Latin tag: lingua sure on a long remainder, or fairly sure and seconded
    by the text's own words (`rogamos`, `le`, `the`) while the tag's language has none of its own.

    A telex text keeps its names, and place names hold function words (LOS ANGELES): there lingua
    is never enough alone, and a fairly sure lingua needs two own words, not one.
    """
    votes = own_word_votes(ev.remainder, marks=False)
    seconded = votes[tag_language] == 0 and _own_words_vote(ev.remainder, marks=False) == detected
    if ev.letters >= MIN_LETTERS_TO_OVERRULE and confidence >= OVERRULE_CONFIDENCE:
        return seconded or not ev.telex
    needed = 2 if ev.telex else 1
    return (
        ev.letters >= MIN_LETTERS_SECONDED
        and confidence >= SECONDED_CONFIDENCE
        and seconded
        and votes[detected] >= needed
    )


def _script_contradicts(tag_language: Language, ev: Evidence) -> bool:
    """Arabic script against a Latin-script tag (or the reverse) is unambiguous even when short,
    provided the Arabic cannot be a name quoted in a Latin text: the text has no Latin letters (but
    identifiers), or its Arabic has function words or punctuation, or at least 3 Arabic words with
    the Latin part short. names.py sets most quoted Arabic names aside already; this guards the tag
    when a text has little but names, in both scripts (`مطلوب: RODRIGUEZ Carlos.` keeps `fr`). And a
    text that holds Arabic words is never proved *not* Arabic by script: an `ar` tag on it stands."""
    if tag_language == "ar":
        # The same guard the other way: Arabic words set aside as a possible quoted name still back
        # the sender's `ar`, so a Latin remainder overrules it only when the text has no Arabic word.
        return (
            ev.letters >= MIN_LETTERS_FOR_SCRIPT
            and ev.arabic_share < 0.2
            and ev.arabic_in_text < MIN_ARABIC_LETTERS_OVER_TAG
        )
    latin = ev.letters - ev.arabic - ev.foreign
    real_arabic = (
        ev.latin_in_text == 0
        or ev.arabic_marks > 0
        or (ev.arabic_words >= MIN_ARABIC_WORDS_OVER_TAG and latin <= LATIN_SHARE_SHORT * ev.letters)
    )
    return ev.arabic >= MIN_ARABIC_LETTERS_OVER_TAG and ev.arabic_share >= ARABIC_SHARE_OVER_TAG and real_arabic
