"""The Article 3 screening lexicon: words that SUGGEST a political, military, religious or racial character.

Constitution Art. 3 (DOMAIN.md §2): "It is strictly forbidden for the Organization to undertake
any intervention or activities of a political, military, religious or racial character." Whether
a case is predominantly of that character is a case-by-case human judgement (the "predominance
test", AGN/20/RES/11); terrorism is allowed under conditions (AGN/53/RES/7) and so is not listed.
A match here only puts the request in front of a reviewer with the words that caught the eye.

Syntax: terms are written naturally (accents and Arabic vowel marks are ignored when matching);
`*` at the end of a word allows any word ending (`protest*` matches protesters). Arabic words
also match with the article and the one-letter conjunctions and prepositions in front (see
article3.py). Every term is searched in every request, whatever its language: a French request
may quote a Spanish statute.
"""

from __future__ import annotations

from typing import Literal

Category = Literal["political", "military", "religious", "racial"]
TermLanguage = Literal["en", "fr", "es", "ar"]

LEXICON: dict[TermLanguage, dict[Category, tuple[str, ...]]] = {
    "en": {
        "political": (
            "political activit*", "political part*", "political opinion*", "political offen*",
            "politically motivated", "political prisoner*", "opposition", "dissident*", "protest*",
            "demonstrator*", "unauthori* assembl*", "unauthori* rall*", "unsanctioned rall*",
            "insult* the head of state", "insult* the president", "insult* the king", "insult* the monarch",
            "lese majeste", "sedition", "seditious", "treason", "subversi*", "separatis*", "attempted coup",
            "coup attempt*", "overthrow* the government", "regime change", "extremis*", "revolutionary court*",
        ),
        "military": (
            "desertion", "deserter*", "draft evasion", "draft dodg*", "evasion of military service",
            "evad* military service", "conscientious objector*", "refus* military service",
            "military insubordination", "mutiny", "espionage", "military court*", "military tribunal*",
            "court martial*", "military coup",
        ),
        "religious": (
            "blasphem*", "apostas*", "apostate*", "heresy", "heretic*", "proselyti*", "insult* religio*",
            "defamation of religio*", "offend* religious feeling*", "religious conversion", "sacrilege*",
            "witchcraft", "sorcery",
        ),
        "racial": ("racial*", "ethnic*", "tribal affiliation"),
    },
    "fr": {
        "political": (
            "activité* politique*", "parti* politique*", "opinion* politique*", "délit* politique*",
            "prisonnier* politique*", "opposant*", "manifestation*", "manifestant*", "contestation",
            "rassemblement* non autorisé*", "offense au chef de l'État", "offense au président",
            "outrage au chef de l'État", "insulte* au chef de l'État", "lèse-majesté", "sédition",
            "trahison", "atteinte à la sûreté de l'État", "séparatis*", "coup d'État", "extrémis*",
            "tribunal révolutionnaire",
        ),
        "military": (
            "désertion", "déserteur*", "insoumission", "objecteur* de conscience",
            "refus* du service militaire", "espionnage", "mutinerie", "tribunal militaire",
            "tribunaux militaires", "conseil de guerre",
        ),
        "religious": (
            "blasphème*", "apostasie", "apostat*", "hérésie", "hérétique*", "prosélytisme",
            "outrage* à la religion", "atteinte* aux religions", "diffamation des religions", "sorcellerie",
        ),
        "racial": ("ethnique*", "origine ethnique"),
    },
    "es": {
        "political": (
            "actividad* política*", "partido* político*", "opinión* política*", "delito* político*",
            "preso* político*", "oposición", "opositor*", "protesta*", "manifestación*", "manifestante*",
            "disidente*", "reunión* no autorizada*", "injuria* al jefe de estado", "injuria* al presidente",
            "ultraje* al jefe de estado", "desacato", "sedición", "traición", "subversión", "golpe de estado",
            "rebelión", "tribunal revolucionario",
        ),
        "military": (
            "deserción", "desertor*", "insumisión", "objetor* de conciencia", "evasión del servicio militar",
            "espionaje", "motín", "tribunal militar", "tribunales militares", "consejo de guerra",
        ),
        "religious": (
            "blasfem*", "apostasía", "apóstata*", "herejía", "hereje*", "proselitismo", "ofensa* religiosa*",
            "ofensa* a la religión", "brujería", "sacrilegio",
        ),
        "racial": ("étnic*", "origen étnico"),
    },
    "ar": {
        "political": (
            "نشاط* سياسي*", "حزب* سياسي*", "معارض*", "احتجاج*", "مظاهرة*", "تظاهر*",
            "إهانة رئيس الدولة", "الإساءة إلى رئيس الدولة", "إهانة الملك", "العيب في الذات الملكية",
            "قلب نظام الحكم", "الخيانة العظمى", "انفصالي*", "تطرف*", "محكمة الثورة",
        ),
        "military": (
            "الفرار من الخدمة العسكرية", "الفرار من الجيش", "التهرب من الخدمة العسكرية",
            "التخلف عن الخدمة العسكرية", "العصيان العسكري", "تجسس*", "محكمة عسكرية",
        ),
        "religious": (
            "تجديف", "ازدراء الأديان", "ازدراء الدين", "الردة", "مرتد عن", "الإساءة إلى الدين",
            "سب الذات الإلهية", "التبشير", "الشعوذة", "السحر",
        ),
        "racial": ("عرقي*", "عنصري*", "إثني*"),
    },
}  # fmt: skip
