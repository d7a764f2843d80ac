"""Request bodies for the offices' APIs, written in the sending NCB's working language.

Texts are short police-cooperation prose in English, French, Spanish and Arabic, sized so that a
signed message carries about 1 KiB of payload, like the benchmark's raw messages.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from interpol_mesh.directory import Office

TEXT: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "title": (
            "Request for assistance: vehicle registration",
            "Information on a suspected fraud network",
            "Urgent: missing minor possibly abroad",
            "Confirmation of travel document validity",
        ),
        "text": (
            "Please confirm whether the vehicle described below is registered in your country and whether it "
            "has been reported stolen. The vehicle was stopped at a border crossing this morning; the driver "
            "holds a foreign licence and could not present the registration certificate. ",
            "We are investigating a group suspected of transnational payment-card fraud. Several transactions "
            "were made from terminals in your country during the last month. We would be grateful for any "
            "information on the persons and companies named in our previous message. ",
            "A minor reported missing yesterday may have crossed the border with a relative. Please check "
            "arrivals at your airports and inform us at once if the person is located; do not approach. ",
        ),
        "action": ("Locate and inform; do not arrest without a warrant.", "Check national databases and reply."),
        "place": ("International airport, passport control", "Land border crossing, vehicle lane", "Seaport terminal"),
    },
    "fr": {
        "title": (
            "Demande d'assistance : immatriculation d'un véhicule",
            "Information sur un réseau d'escroquerie",
            "Urgent : mineur disparu, peut-être à l'étranger",
            "Confirmation de la validité d'un document de voyage",
        ),
        "text": (
            "Merci de confirmer si le véhicule décrit ci-dessous est immatriculé dans votre pays et s'il a été "
            "déclaré volé. Le véhicule a été contrôlé ce matin à un poste frontière ; le conducteur détient un "
            "permis étranger et n'a pas pu présenter le certificat d'immatriculation. ",
            "Nous enquêtons sur un groupe soupçonné de fraude transnationale aux cartes de paiement. Plusieurs "
            "transactions ont été réalisées depuis des terminaux situés dans votre pays au cours du dernier mois. "
            "Toute information sur les personnes et sociétés citées serait la bienvenue. ",
            "Un mineur signalé disparu hier pourrait avoir franchi la frontière avec un proche. Merci de vérifier "
            "les arrivées dans vos aéroports et de nous informer immédiatement s'il est localisé. ",
        ),
        "action": (
            "Localiser et informer ; ne pas interpeller sans mandat.",
            "Consulter les bases nationales et répondre.",
        ),
        "place": ("Aéroport international, contrôle des passeports", "Poste frontière routier", "Terminal portuaire"),
    },
    "es": {
        "title": (
            "Solicitud de asistencia: matrícula de un vehículo",
            "Información sobre una red de estafas",
            "Urgente: menor desaparecido, posiblemente en el extranjero",
            "Confirmación de un documento de viaje",
        ),
        "text": (
            "Se ruega confirmar si el vehículo descrito a continuación está matriculado en su país y si ha sido "
            "denunciado como robado. El vehículo fue detenido esta mañana en un paso fronterizo; el conductor "
            "tiene una licencia extranjera y no pudo presentar el permiso de circulación. ",
            "Investigamos a un grupo sospechoso de fraude transnacional con tarjetas de pago. Varias operaciones "
            "se realizaron desde terminales ubicadas en su país durante el último mes. Agradeceremos cualquier "
            "información sobre las personas y empresas mencionadas. ",
            "Un menor denunciado como desaparecido ayer podría haber cruzado la frontera con un familiar. Se ruega "
            "verificar las llegadas a sus aeropuertos e informarnos de inmediato si es localizado. ",
        ),
        "action": ("Localizar e informar; no detener sin orden.", "Consultar las bases nacionales y responder."),
        "place": ("Aeropuerto internacional, control de pasaportes", "Paso fronterizo terrestre", "Terminal portuaria"),
    },
    "ar": {
        "title": (
            "طلب مساعدة: تسجيل مركبة",
            "معلومات عن شبكة احتيال",
            "عاجل: قاصر مفقود ربما في الخارج",
            "تأكيد صلاحية وثيقة سفر",
        ),
        "text": (
            "يرجى التأكد مما إذا كانت المركبة الموصوفة أدناه مسجلة في بلدكم وما إذا كان قد أبلغ عن سرقتها. "
            "أوقفت المركبة صباح اليوم عند معبر حدودي، ويحمل السائق رخصة أجنبية ولم يتمكن من تقديم شهادة التسجيل. ",
            "نحقق في مجموعة يشتبه في قيامها باحتيال عابر للحدود باستخدام بطاقات الدفع. أجريت عدة معاملات من "
            "أجهزة موجودة في بلدكم خلال الشهر الماضي. نكون ممتنين لأي معلومات عن الأشخاص والشركات المذكورة. ",
            "قد يكون قاصر أبلغ عن فقدانه أمس قد عبر الحدود مع أحد أقاربه. يرجى التحقق من القادمين إلى مطاراتكم "
            "وإبلاغنا فوراً إذا تم العثور عليه. ",
        ),
        "action": ("تحديد المكان والإبلاغ؛ لا توقيف دون مذكرة.", "الرجوع إلى القواعد الوطنية والرد."),
        "place": ("مطار دولي، مراقبة الجوازات", "معبر حدودي بري", "محطة ميناء"),
    },
}

FAMILY_NAMES = ("PEREZ", "DUPONT", "SMITH", "HADDAD", "OKAFOR", "NGUYEN", "SILVA", "MULLER", "KOWALSKI", "TANAKA")
GIVEN_NAMES = ("Juan", "Marc", "John", "Karim", "Chinedu", "Linh", "Ana", "Petra", "Jan", "Yuki")
TEXT_CHARS = 520  # with the header and JSON framing, about 1 KiB of signed payload


def _lang(office: Office) -> dict[str, tuple[str, ...]]:
    return TEXT.get(office.language, TEXT["en"])


def _text(words: dict[str, tuple[str, ...]], rng: random.Random, ref: str) -> str:
    text = f"Ref. {ref}. " + rng.choice(words["text"])
    while len(text) < TEXT_CHARS:
        text += rng.choice(words["text"])
    return text[:TEXT_CHARS]


def _person(rng: random.Random, country: str | None) -> dict[str, Any]:
    return {"family_name": rng.choice(FAMILY_NAMES), "given_names": rng.choice(GIVEN_NAMES),
            "sex": rng.choice(("male", "female")), "nationalities": [country] if country else []}  # fmt: skip


def message(office: Office, rng: random.Random, ref: str) -> dict[str, Any]:
    words = _lang(office)
    return {
        "title": rng.choice(words["title"]),
        "text": _text(words, rng, ref),
        "request_for_assistance": rng.random() < 0.5,
    }


def diffusion(office: Office, rng: random.Random, ref: str) -> dict[str, Any]:
    words = _lang(office)
    kind = rng.choices(("wanted-person", "missing-person", "information", "alert"), (50, 20, 20, 10))[0]
    body: dict[str, Any] = {"diffusion_type": kind, "title": rng.choice(words["title"]), "text": _text(words, rng, ref),
                            "requested_action": rng.choice(words["action"])}  # fmt: skip
    if kind in ("wanted-person", "missing-person"):
        body["person"] = _person(rng, office.country)
    return body


def notice_request(office: Office, rng: random.Random, ref: str, countries: list[str] | None = None) -> dict[str, Any]:
    """A complete Red Notice request (passes the GS's automatic screening); `countries` restricts distribution."""
    words = _lang(office)
    body: dict[str, Any] = {
        "notice_type": "red",
        "title": rng.choice(words["title"])[:120] + f" ({ref})",
        "person": _person(rng, office.country),
        "person_status": "charged",
        "offence": {
            "description": _text(words, rng, ref)[:400],
            "category": "fraud",
            "law_reference": "Penal code",
            "max_penalty_years": 10,
        },
        "purpose": rng.choice(words["action"]),
        "legal_basis": "Arrest warrant of the competent court",
        "arrest_warrant": {
            "reference": ref[:40],
            "issuing_authority": "Court of first instance",
            "issued_on": "2025-01-15",
        },
    }
    if countries is not None:
        body["distribution"] = {"mode": "allow", "countries": countries}
    return body


def hit(office: Office, rng: random.Random, notice_id: str) -> dict[str, Any]:
    words = _lang(office)
    return {"notice_id": notice_id, "hit_at": datetime.now(UTC).isoformat(), "place": rng.choice(words["place"]),
            "description": _text(words, rng, notice_id[:8])[:300], "subject_detained": rng.random() < 0.3}  # fmt: skip
