"""Refusals the police-data kinds add: a record-change carries exactly its own subject, and a search and
its result travel only on their own subject families (a search is never stored, so never in an inbox).

The accept vectors of the four kinds are their signed examples (vector_accepts).
"""

from __future__ import annotations

from collections.abc import Callable

from interpol_mesh.bus import subjects
from interpol_offices.cli.vector_kit import (
    Json,
    Vector,
    office_signer,
    refuse,
    resigned,
    sealed,
)

_DOCUMENT: Json = {"number": "25FX04712", "document_type": "passport", "issuing_country": "FR", "status": "stolen"}
_VEHICLE: Json = {"vin": "VF1RFB00X65123457", "make": "Renault", "model": "Megane"}
_QUERY: Json = {"database": "sltd", "document_number": "25FX04712", "issuing_country": "FR"}
_REPLY_ES = f"{subjects.reply_prefix('ncb.es')}.vector.1"


def _upsert(name: str) -> bytes:
    body = {"operation": "upsert", "database": "sltd", "record_ref": "fr-sltd-vector", "owner_office": "ncb.fr",
            "document": _DOCUMENT}  # fmt: skip
    return sealed(name, "record-change", "ncb.fr", ("gs",), body, language="fr-FR")


def _changed(change: Callable[[Json], None]) -> Callable[[str], bytes]:
    def build(name: str) -> bytes:
        return resigned(_upsert(name), lambda c: change(c["body"]), office_signer("ncb.fr"))

    return build


def _without_document(body: Json) -> None:
    del body["document"]


def _with_vehicle(body: Json) -> None:
    body["vehicle"] = _VEHICLE


def _cancel_with_record(body: Json) -> None:
    body["operation"] = "cancel"


def _vehicle_unidentified(body: Json) -> None:
    del body["document"]
    body["database"] = "smv"
    body["vehicle"] = {"make": "Renault", "model": "Megane", "colour": "gris"}


def _search_request(name: str) -> bytes:
    body = {"query": _QUERY, "purpose": "border-check", "place": "Puerto de Algeciras (vector)"}
    return sealed(name, "search-request", "ncb.es", ("gs",), body)


def _search_result(name: str, sender: str = "gs") -> bytes:
    body = {"for_message_id": "019b8e6e-c700-7000-8000-000000000009", "request_digest": "0" * 64,
            "searched_at": "2026-01-05T12:00:00+00:00", "hits": []}  # fmt: skip
    return sealed(name, "search-result", sender, ("ncb.es",), body)


def _record_change_refusals() -> list[Vector]:
    out = []
    for variant, change, text in [
        ("record-change-upsert-without-subject", _without_document,
         "An sltd upsert that carries no document: an upsert carries exactly its database's subject."),
        ("record-change-upsert-two-subjects", _with_vehicle,
         "An sltd upsert that also carries a vehicle: exactly one subject, its database's."),
        ("record-change-cancel-with-record", _cancel_with_record,
         "A cancel that still carries the document: a cancel carries no record."),
        ("record-change-vehicle-unidentified", _vehicle_unidentified,
         "An smv upsert whose vehicle has neither a VIN nor a plate."),
    ]:  # fmt: skip
        name = f"refuse/schema-invalid--{variant}"
        out.append(Vector(name, f"{text} Refused at step 13.", "gs", subjects.direct("ncb.fr", "gs"),
                          _changed(change)(name), refuse("schema-invalid")))  # fmt: skip
    return out


def _subject_family_refusals() -> list[Vector]:
    def on(subject: str, build: Callable[[str], bytes], variant: str, text: str, receiver: str) -> Vector:
        name = f"refuse/header-mismatch--{variant}"  # a core subject: no storage time
        return Vector(name, text, receiver, subject, build(name), refuse("header-mismatch"), stored_at=None)

    return [
        Vector("refuse/header-mismatch--search-request-on-direct-subject",
               "A search-request on a direct subject: it travels only on mesh.v1.search.<from> (step 15); "
               "a search is never stored, so never delivered from an inbox.", "gs", subjects.direct("ncb.es", "gs"),
               _search_request("refuse/header-mismatch--search-request-on-direct-subject"), refuse("header-mismatch")),
        on(subjects.search("ncb.fr"), _upsert, "record-change-on-search-subject",
           "A record-change on the search subject: only a search-request travels there (step 15).", "gs"),
        Vector("refuse/header-mismatch--search-result-on-direct-subject",
               "A search-result from the GS on a direct subject: it travels only on the request's reply subject "
               "(step 15), never stored.", "ncb.es", subjects.direct("gs", "ncb.es"),
               _search_result("refuse/header-mismatch--search-result-on-direct-subject"), refuse("header-mismatch")),
        _gs_request_on_reply(),
        Vector("refuse/wrong-office-key--search-result-not-from-gs",
               "A search-result signed by ncb.de on ncb.es's reply subject: the sender of a reply subject is the "
               "GS (the one search responder), and the key is not the GS's (step 5).", "ncb.es", _REPLY_ES,
               _search_result("refuse/wrong-office-key--search-result-not-from-gs", "ncb.de"),
               refuse("wrong-office-key"), stored_at=None),
        Vector("refuse/header-mismatch--search-subject-unknown-office",
               "A search-request on mesh.v1.search.<token> whose token names no office (step 0).", "gs",
               "mesh.v1.search.ncb_zz", _search_request("refuse/header-mismatch--search-subject-unknown-office"),
               refuse("header-mismatch"), stored_at=None),
    ]  # fmt: skip


def _gs_request_on_reply() -> Vector:
    """A message signed by the GS (so steps 0-14 pass on a reply subject) that is not a search-result."""
    name = "refuse/header-mismatch--message-on-reply-subject"
    data = sealed(name, "message", "gs", ("ncb.es",), {"title": "Not a result", "text": "A plain message."})
    return Vector(name, "A message from the GS on a reply subject: only a search-result travels there (step 15).",
                  "ncb.es", _REPLY_ES, data, refuse("header-mismatch"), stored_at=None)  # fmt: skip


def cases() -> list[Vector]:
    return [*_record_change_refusals(), *_subject_family_refusals()]
