"""Generate the wire contract (proto-schemas/v1) and deploy/ from the code; `--check` reports drift.

Run `python -m interpol_offices.cli.generate` (`make gen`) to write the files and
`python -m interpol_offices.cli.generate --check` (`make check-gen`, run in CI) to fail when the
committed files differ from what the code would generate. Output is byte-for-byte deterministic:
sorted JSON keys, fixed example keys, ids and times, and no timestamps of generation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from interpol_mesh.bus import streams, subjects
from interpol_mesh.bus.supercluster import PRODUCTION_TLS, production_layout, render_server_config
from interpol_mesh.crypto import KEY_DIRECTORY_TYPE, FileSigner, KeyDirectoryDocument, KeyRecord, sign_directory
from interpol_mesh.directory import load_directory, office_name
from interpol_mesh.envelope import MAX_ENVELOPE_BYTES, Header, Sealed, seal
from interpol_mesh.messages import BODY_MODELS, SCHEMA_MAJOR, payload_type
from interpol_mesh.natsd import MAX_PAYLOAD_BYTES, render_config
from interpol_offices.cli import monitoring_files
from interpol_offices.cli.deploy_manifests import render_files as render_deploy_files
from interpol_offices.cli.vectors import vector_files

ROOT = Path(__file__).resolve().parents[2]
V1 = f"proto-schemas/v{SCHEMA_MAJOR}"
EXAMPLES = f"{V1}/examples"
NATS_CONF = "deploy/nats/nats-server.conf"
REGIONS_DIR = "deploy/nats/regions"
BASE_URI = f"https://interpol-mesh.example/{V1}/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
GENERATED = "Generated from the code by `make gen` (services/cli/generate.py); do not edit by hand."

EXAMPLE_SEED = b"interpol-mesh example key "
EXAMPLE_KEYS_FROM = datetime(2026, 1, 1, tzinfo=UTC)
EXAMPLE_T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
EXAMPLE_VERIFY_AT = EXAMPLE_T0 + timedelta(hours=2)  # a `now` at which every example verifies
EXAMPLE_OFFICES = ("gs", "ncb.de", "ncb.es", "ncb.fr")  # the offices that sign an example (a key each)
# Every office an example names: the CCC signs none but receives the record-hit (step 8 wants an office).
EXAMPLE_RECIPIENT_OFFICES = (*EXAMPLE_OFFICES, "ccc")

Files = dict[str, bytes]
Json = dict[str, Any]


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


# -- JSON Schemas --------------------------------------------------------------------------------


def _schema(name: str, title: str, description: str, schema: Json) -> bytes:
    doc = {**schema, "$schema": DIALECT, "$id": f"{BASE_URI}{name}.schema.json", "$comment": GENERATED}
    return _json({**doc, "title": title, "description": description})


# Standard base64 (RFC 4648 alphabet, padded), canonical: the unused low bits before `=` are zero, so each
# byte string has one spelling (interpol_mesh.strict_json.b64decode_canonical). Nothing about the length of
# what it decodes to: a signature of the wrong length is step 6's `bad-signature`, not `malformed`.
STANDARD_BASE64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$"


def _b64() -> Json:
    return {"type": "string", "contentEncoding": "base64", "pattern": STANDARD_BASE64}


def example_nonce(message_id: str, recipient: str) -> str:
    """The random part of an example's Nats-Msg-Id (16 hex digits as senders mint them), fixed here."""
    return hashlib.sha256(f"{message_id}:{recipient}".encode()).hexdigest()[:16]


def example_msg_id(message_id: str, recipient: str) -> str:
    return f"{message_id}:{recipient}:{example_nonce(message_id, recipient)}"


def envelope_schema() -> Json:
    sig = {
        "type": "object",
        "additionalProperties": False,
        "required": ["keyid", "sig"],
        "properties": {
            "keyid": {
                "type": "string",
                "description": "A hint to find the key in the key directory; never trusted by itself.",
            },
            "sig": {
                **_b64(),
                "description": "Ed25519 signature over PAE(payloadType, payload bytes): any standard base64 here; "
                "one that does not decode to a good 64-byte signature is refused at step 6 (bad-signature).",
            },
        },
    }
    payload = _b64() | {
        "contentMediaType": "application/json",
        "description": "Standard base64 (RFC 4648, padded) of the exact signed bytes. Verify before parsing.",
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["payloadType", "payload", "signatures"],
        "properties": {
            "payloadType": {
                "type": "string",
                "description": "application/vnd.interpol-mesh.<kind>.v<major>+json; bound into the signature by PAE. "
                "Any string passes this schema (step 2); which types a receiver takes is step 3 "
                "(unsupported-type, unsupported-version), never malformed. v1 types: "
                + ", ".join([*map(payload_type, BODY_MODELS), KEY_DIRECTORY_TYPE])
                + ".",
            },
            "payload": payload,
            "signatures": {
                "type": "array",
                "minItems": 1,
                "items": sig,
                "description": "v1 senders send exactly one. Every signature must verify with a key of the sender "
                "(a list with any bad signature is refused), and no key id may appear twice.",
            },
        },
        "if": {"properties": {"payloadType": {"const": KEY_DIRECTORY_TYPE}}},
        "then": {"properties": {"payload": {"contentSchema": {"$ref": "key-directory.schema.json"}}}},
        "else": {"properties": {"payload": {"contentSchema": {"$ref": "signed-content.schema.json"}}}},
        "x-max-bytes": MAX_ENVELOPE_BYTES,
    }


UNKNOWN_FIELDS = "x-unknown-fields"


def receiver_schema(schema: Any) -> Any:
    """A model's schema as v1 receivers apply it: unknown fields in an object are ignored, not refused.

    The models themselves forbid unknown fields (the HTTP API answers 422, and its OpenAPI says so);
    a receiver drops the fields it does not know at any depth of the signed header and body and
    validates the rest strictly (interpol_mesh.envelope.unknown_fields). Each object schema of a
    model therefore loses `additionalProperties: false` and says `"x-unknown-fields": "ignore"`:
    a reader in another language ignores (and may record) every key not in `properties` there.
    The envelope and the signed content stay closed: exactly their fields, else `malformed`.
    """
    if isinstance(schema, list):
        return [receiver_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    view = {key: receiver_schema(value) for key, value in schema.items()}
    if view.get("additionalProperties") is False and "properties" in view:
        del view["additionalProperties"]
        view[UNKNOWN_FIELDS] = "ignore"
    return view


def _given(field: str, schema: Json) -> Json:
    """`field` is present and not null (pydantic's `is not None`), as JSON Schema: `schema` names its type."""
    return {"required": [field], "properties": {field: schema}, UNKNOWN_FIELDS: "ignore"}


def _absent(field: str) -> Json:
    return {"properties": {field: {"type": "null"}}, UNKNOWN_FIELDS: "ignore"}  # absent or null: "no value"


_STRING: Json = {"type": "string"}
_SUBJECT_FIELD = {"sltd": "document", "smv": "vehicle", "persons": "person"}


def _record_change_rules() -> Json:
    """RecordChange._one_subject: an upsert carries exactly its database's subject, a cancel none."""
    rules: list[Json] = [
        {"if": {"required": ["operation", "database"], UNKNOWN_FIELDS: "ignore",
                "properties": {"operation": {"const": "upsert"}, "database": {"const": database}}},
         "then": {"allOf": [_given(own, {"type": "object"}), *(_absent(f) for f in _SUBJECT_FIELD.values() if f != own)]}}
        for database, own in _SUBJECT_FIELD.items()
    ]  # fmt: skip
    rules.append({"if": {"required": ["operation"], "properties": {"operation": {"const": "cancel"}}, UNKNOWN_FIELDS: "ignore"},
                  "then": {"allOf": [_absent(f) for f in _SUBJECT_FIELD.values()]}})  # fmt: skip
    return {"allOf": rules}


# The cross-field rules of the models (their model validators), written into the published schemas so a
# verifier in another language decides them from the files alone (step 13, schema-invalid).
CROSS_FIELD_RULES: dict[str, Json] = {
    "Vehicle": {  # Vehicle._identified
        "anyOf": [_given("vin", _STRING), _given("plate", _STRING)],
        "if": _given("plate", _STRING), "then": _given("plate_country", _STRING),
    },
    "PersonName": {  # PersonName._some_name: a non-empty family name or given names
        "anyOf": [_given("family_name", {"type": "string", "minLength": 1}),
                  _given("given_names", {"type": "string", "minLength": 1})],
    },
}  # fmt: skip


def body_schema(kind: str) -> Json:
    """The model's schema with its cross-field rules (CROSS_FIELD_RULES) added where the model has them."""
    schema: Json = BODY_MODELS[kind].model_json_schema()
    for name, rules in CROSS_FIELD_RULES.items():
        if name in schema.get("$defs", {}):
            schema["$defs"][name] |= rules
    if kind == "record-change":
        schema |= _record_change_rules()
    return schema


def signed_content_schema() -> Json:
    by_kind = [
        {
            "if": {"required": ["header"], "properties": {"header": {"properties": {"kind": {"const": kind}}}}},
            "then": {"properties": {"body": {"$ref": f"{kind}.schema.json"}}},
        }
        for kind in BODY_MODELS
    ]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["header", "body"],
        "properties": {
            "header": {"$ref": "header.schema.json"},
            "body": {
                "description": "Checked at step 13, after the header steps, against the schema of its kind "
                "(allOf below), which requires an object: a body that breaks it, not being an object included, "
                "is schema-invalid, never malformed."
            },
        },
        "allOf": by_kind,
    }


def schema_files() -> Files:
    files = {
        f"{V1}/envelope.schema.json": _schema(
            "envelope",
            "interpol-mesh signed envelope (DSSE JSON), v1",
            f"What travels on NATS: at most {MAX_ENVELOPE_BYTES} bytes. The signature is Ed25519 over "
            "PAE(payloadType, payload bytes) as in DSSE; the payload decodes to signed-content.schema.json "
            "(message kinds) or key-directory.schema.json (the GS-signed key directory).",
            envelope_schema(),
        ),
        f"{V1}/signed-content.schema.json": _schema(
            "signed-content",
            "interpol-mesh signed content, v1",
            'The decoded payload of a message envelope: {"header":…,"body":…}; the body follows the schema '
            "of the kind named by header.kind and the payload type. Exactly these two fields (else malformed); "
            "inside them a v1 receiver ignores the fields it does not know.",
            signed_content_schema(),
        ),
        f"{V1}/header.schema.json": _schema(
            "header",
            "interpol-mesh signed header, v1",
            "Signed together with the body: nothing outside the signature is trusted by a receiver. "
            "Unknown fields are ignored by v1 receivers (x-unknown-fields), every known one is checked strictly.",
            receiver_schema(Header.model_json_schema()),
        ),
        f"{V1}/key-directory.schema.json": _schema(
            "key-directory",
            "interpol-mesh key directory, v1",
            f"Payload of {KEY_DIRECTORY_TYPE} envelopes, signed by the General Secretariat root key (the trust "
            "anchor): which office owns which Ed25519 public key, valid when, revoked from when.",
            KeyDirectoryDocument.model_json_schema(),
        ),
    }
    for kind in BODY_MODELS:
        schema = receiver_schema(body_schema(kind))
        about = schema.pop("description", "")
        files[f"{V1}/{kind}.schema.json"] = _schema(
            kind,
            f"interpol-mesh {kind} body, v1",
            f"Body of {payload_type(kind)} envelopes. {about} v1 receivers ignore unknown fields at any depth "
            "(x-unknown-fields); the HTTP API refuses them.".replace("  ", " "),
            schema | {"x-payload-type": payload_type(kind)},
        )
    return files


# -- Signed examples -----------------------------------------------------------------------------


def example_signer(name: str, office_id: str, key_id: str | None = None) -> FileSigner:
    """A public test key: the seed is sha256("interpol-mesh example key <name>"), so anyone can rebuild it."""
    seed = hashlib.sha256(EXAMPLE_SEED + name.encode()).digest()
    return FileSigner(key_id or f"{name}/20260101T000000-example", office_id, SigningKey(seed))


def example_root() -> FileSigner:
    return example_signer("gs-root", "gs")


def example_directory() -> KeyDirectoryDocument:
    signers = [example_signer(office, office) for office in EXAMPLE_OFFICES]
    records = tuple(
        KeyRecord(key_id=s.key_id, office_id=s.office_id, public_key=s.public_key_b64(), valid_from=EXAMPLE_KEYS_FROM)
        for s in signers
    )
    return KeyDirectoryDocument(version=1, issued_at=EXAMPLE_KEYS_FROM, keys=records)


def _message_id(n: int) -> str:
    """A UUIDv7 at EXAMPLE_T0 with counter n and no randomness, so the examples never change."""
    ms = int(EXAMPLE_T0.timestamp() * 1000)
    return str(uuid.UUID(int=ms << 80 | 0x7 << 76 | 0b10 << 62 | n))


NOTICE_ID = _message_id(1)  # the GS names a notice by the message id of the request (the first example)


def _at(minutes: int, seconds: float = 0) -> str:
    return (EXAMPLE_T0 + timedelta(minutes=minutes, seconds=seconds)).isoformat()


SLTD_REF = "fr-sltd-2026-004711"
SLTD_RECORD_ID = f"sltd/ncb.fr/{SLTD_REF}"
SLTD_DOCUMENT: Json = {"number": "25FX04711", "document_type": "passport", "issuing_country": "FR",
                       "status": "stolen", "issued_on": "2025-03-14", "expires_on": "2035-03-13",
                       "reported_on": "2026-01-04"}  # fmt: skip
SLTD_INSTRUCTIONS = "Saisir le document; informer le BCN Paris (exemple fictif)"
SLTD_QUERY: Json = {"database": "sltd", "document_number": "25FX04711", "issuing_country": "FR"}
SEARCH_PLACE = "Aeropuerto Adolfo Suárez Madrid-Barajas, T4, control de pasaportes"
# The reply subject of the example search: the requester's inbox prefix, then the request's own tokens.
EXAMPLE_REPLY_TOKENS = "example.1"


def example_subject(kind: str, sender: str, recipient: str) -> str:
    """Where an example travels: a search on the search subject, its result on the request's reply subject."""
    if kind == "search-request":
        return subjects.search(sender)
    if kind == "search-result":
        return f"{subjects.reply_prefix(recipient)}.{EXAMPLE_REPLY_TOKENS}"
    return subjects.for_envelope(kind, sender, recipient)


NOTICE: Json = {
    "notice_type": "red",
    "title": "EXEMPLE — recherché pour escroquerie en bande organisée",
    "person": {"family_name": "EXEMPLE", "given_names": "Jean Fictif", "date_of_birth": "1980-02-29", "sex": "male",
               "nationalities": ["FR"]},
    "person_status": "charged",
    "offence": {"description": "Escroquerie en bande organisée (affaire fictive)", "category": "fraud",
                "law_reference": "Code pénal, art. 313-2", "max_penalty_years": 10},
    "purpose": "Localisation et arrestation provisoire en vue d'extradition vers la France",
    "legal_basis": "Mandat d'arrêt national; infraction de droit commun (article 3 du Statut respecté)",
    "arrest_warrant": {"reference": "EX-2025-000123", "issued_on": "2025-12-01",
                       "issuing_authority": "Juge d'instruction, Tribunal judiciaire de Lyon (exemple)"},
    "requesting_office": "ncb.fr",
}  # fmt: skip
NEXT_KEY = example_signer("ncb.de next", "ncb.de", "ncb.de/20260105T120000-example")
# kind, sender, recipients, language, extra header fields, body (a function of the earlier examples' envelopes)
EXAMPLES_TABLE: list[tuple[str, str, tuple[str, ...], str, Json, Callable[[dict[str, Sealed]], Json]]] = [
    ("notice-request", "ncb.fr", ("gs",), "fr-FR", {"priority": "urgent"}, lambda _: NOTICE),
    # The published notice carries the requester's own signed request (the first example), byte for byte.
    ("notice-event", "gs", ("ncb.de", "ncb.es"), "en", {"correlation_id": _message_id(1)}, lambda earlier: {
        "event": "published", "notice_id": NOTICE_ID, "notice_type": "red", "requesting_office": "ncb.fr",
        "notice": NOTICE, "published_at": _at(10), "expires_at": "2031-01-05T00:00:00+00:00",
        "request": json.loads(earlier["notice-request"].data)}),
    ("diffusion", "ncb.de", ("ncb.fr", "ncb.es"), "de-DE", {"expires_at": _at(30 * 24 * 60)}, lambda _: {
        "diffusion_type": "wanted-person", "title": "BEISPIEL – Festnahmeersuchen wegen schweren Raubes",
        "text": "Fiktiver Fall: Bitte um Aufenthaltsermittlung und Festnahme.",
        "person": {"family_name": "BEISPIEL", "given_names": "Max", "sex": "male", "nationalities": ["DE"]},
        "offence": {"description": "Schwerer Raub (fiktiver Fall)", "category": "robbery", "law_reference": "StGB § 250"},
        "requested_action": "Festnahme; NCB Wiesbaden informieren"}),
    ("message", "ncb.es", ("ncb.fr",), "es-ES", {}, lambda _: {
        "title": "EJEMPLO – solicitud de asistencia", "text": "Caso ficticio: ¿pueden confirmar la identidad?",
        "request_for_assistance": True, "references": [_message_id(3)]}),
    ("hit-report", "ncb.es", ("ncb.fr", "gs"), "es-ES", {"priority": "critical", "correlation_id": _message_id(2)},
     lambda _: {
        "notice_id": NOTICE_ID, "notice_type": "red", "requesting_office": "ncb.fr", "hit_at": _at(20),
        "country": "ES", "place": "Aeropuerto Adolfo Suárez Madrid-Barajas, T4", "subject_detained": True,
        "description": "Control fronterizo: coincidencia con la notificación roja (ejemplo ficticio)."}),
    ("receipt", "ncb.fr", ("ncb.es",), "fr-FR", {"correlation_id": _message_id(5)}, lambda earlier: {
        "receipt_type": "acknowledged", "for_message_id": _message_id(5), "digest": earlier["hit-report"].digest,
        "at": _at(50)}),
    ("key-rotation", "ncb.de", ("gs",), "en", {"priority": "urgent"}, lambda _: {
        "new_key_id": NEXT_KEY.key_id, "new_public_key": NEXT_KEY.public_key_b64(), "overlap_seconds": 86_400}),
    # Police data (docs/police-data.md): France reports one of its passports stolen (only the issuing country
    # may), Spain checks that passport at a border online, the GS answers bound to the request's bytes, and
    # Spain reports the hit to the owner and the CCC.
    ("record-change", "ncb.fr", ("gs",), "fr-FR", {}, lambda _: {
        "operation": "upsert", "database": "sltd", "record_ref": SLTD_REF, "owner_office": "ncb.fr",
        "document": SLTD_DOCUMENT, "instructions": SLTD_INSTRUCTIONS,
        "retention_until": "2031-01-05T00:00:00+00:00"}),
    ("search-request", "ncb.es", ("gs",), "es-ES", {}, lambda _: {
        "query": SLTD_QUERY, "purpose": "border-check", "place": SEARCH_PLACE}),
    # The answer comes 180 ms after the request (within its 2 s deadline), naming it by id and digest.
    ("search-result", "gs", ("ncb.es",), "en", {"created_at": _at(80, seconds=0.18), "correlation_id": _message_id(9)},
     lambda earlier: {
        "for_message_id": _message_id(9), "request_digest": earlier["search-request"].digest,
        "searched_at": _at(80, seconds=0.17), "hits": [{
            "record_id": SLTD_RECORD_ID, "database": "sltd", "owner_office": "ncb.fr", "record_ref": SLTD_REF,
            "score": 1.0, "reasons": ["exact document number and issuing country"],
            "instructions": SLTD_INSTRUCTIONS, "document": SLTD_DOCUMENT, "revision": 41873}]}),
    ("record-hit", "ncb.es", ("ncb.fr", "ccc"), "es-ES",
     {"priority": "urgent", "correlation_id": _message_id(9), "created_at": _at(80, seconds=0.25)},
     lambda _: {
        "search_id": _message_id(9), "record_id": SLTD_RECORD_ID, "database": "sltd", "owner_office": "ncb.fr",
        "record_ref": SLTD_REF, "score": 1.0, "reasons": ["exact document number and issuing country"],
        "mode": "online", "purpose": "border-check", "query": SLTD_QUERY, "country": "ES", "place": SEARCH_PLACE,
        "hit_at": _at(80, seconds=0.2)}),
]  # fmt: skip


def example_envelopes() -> dict[str, tuple[Header, Sealed]]:
    """One signed envelope per kind, in kind order; each is exactly the bytes published on NATS."""
    table = [row for row in EXAMPLES_TABLE if row[0] in BODY_MODELS]
    missing = sorted(set(BODY_MODELS) - {row[0] for row in table})
    if missing:
        raise SystemExit(f"no example for kind(s) {', '.join(missing)}: add one to EXAMPLES_TABLE in {__file__}")
    out: dict[str, tuple[Header, Sealed]] = {}
    earlier: dict[str, Sealed] = {}
    for n, (kind, sender, recipients, language, extra, body) in enumerate(table, start=1):
        fields = {"message_id": _message_id(n), "kind": kind, "sender": sender, "recipients": recipients}
        header = Header.model_validate(fields | {"created_at": _at(10 * (n - 1)), "language": language, **extra})
        sealed = seal(header, BODY_MODELS[kind].model_validate(body(earlier)), example_signer(sender, sender))
        earlier[kind] = sealed
        out[kind] = (header, sealed)
    return {kind: out[kind] for kind in BODY_MODELS}


EXAMPLES_README = """\
# Signed example envelopes (v1)

{generated}

**The example keys are public test keys: never list them in a real key directory.** Each seed is
`sha256("interpol-mesh example key <name>")`, so anyone can rebuild them; Ed25519 signatures are
deterministic (RFC 8032), which is why regenerating these files is byte-identical.

Each `<kind>.json` is exactly the bytes published on NATS followed by one newline that is *not* part
of the message: the SHA-256 digest a receipt carries is over the bytes without it
(`receipt.json` acknowledges `hit-report.json` and carries its digest).

## Trust anchor and key directory

`trust-anchor.pub` holds the public key of the example GS root `{root_id}` (`{root_key}`).
It verifies `key-directory.json` (payload type `{directory_type}`), version {version},
which lists these office keys, valid from {valid_from}:

| key id | office | public key (base64 Ed25519) |
|---|---|---|
{keys}

## Examples and the key that verifies each

Subject and `Nats-Msg-Id` are shown for the first recipient; the sender publishes the same bytes once per
recipient, each with its own `Nats-Msg-Id` (`<message_id>:<recipient>:<random nonce>`; the nonces here are
fixed example values). The notice event travels on the notice subject, the search request on the search
subject `mesh.v1.search.<from>` and its result on the request's reply subject (`_INBOX_<requester>.…`, core
NATS, never stored, so no `Nats-Msg-Id`), every other kind on a direct one (`proto-schemas/README.md`, step 15). Verify at `now = {verify_at}` (the expiry and clock-skew checks
depend on it).

| file | sender | recipients | subject | Nats-Msg-Id | verified with key |
|---|---|---|---|---|---|
{rows}

`key-rotation.json` announces the next key of ncb.de, signed with its current key; the GS would list the
new key in a later key directory.

## By hand

1. Verify `key-directory.json` with `trust-anchor.pub`: base64-decode `payload`, build
   `PAE = "DSSEv1 " + len(payloadType) + " " + payloadType + " " + len(payload) + " " + payload`
   (lengths in bytes, ASCII decimal) and check the Ed25519 signature over it. Only then parse the payload.
2. For an example: look up `signatures[0].keyid` in that directory, check that the key belongs to the
   sender named by the subject, verify the signature over the PAE the same way, then parse
   `{{"header":…,"body":…}}` and apply the remaining checks in order (`proto-schemas/README.md`).
"""


def _example_msg_id_cell(h: Header) -> str:
    if h.kind in subjects.SEARCH_KINDS:
        return "none (core NATS)"
    return f"`{example_msg_id(h.message_id, h.recipients[0])}`"


def _examples_readme(envelopes: dict[str, tuple[Header, Sealed]], directory: KeyDirectoryDocument) -> str:
    root = example_root()
    rows = [
        f"| `{kind}.json` | {h.sender} | {', '.join(h.recipients)} "
        f"| `{example_subject(h.kind, h.sender, h.recipients[0])}` "
        f"| {_example_msg_id_cell(h)} | `{example_signer(h.sender, h.sender).key_id}` |"
        for kind, (h, _) in envelopes.items()
    ]
    return EXAMPLES_README.format(
        generated=GENERATED,
        root_id=root.key_id,
        root_key=root.public_key_b64(),
        directory_type=KEY_DIRECTORY_TYPE,
        version=directory.version,
        valid_from=directory.issued_at.isoformat(),
        keys="\n".join(f"| `{k.key_id}` | {k.office_id} | `{k.public_key}` |" for k in directory.keys),
        verify_at=EXAMPLE_VERIFY_AT.isoformat(),
        rows="\n".join(rows),
    )


def example_files(envelopes: dict[str, tuple[Header, Sealed]]) -> Files:
    directory = example_directory()
    files = {f"{EXAMPLES}/{kind}.json": sealed.data + b"\n" for kind, (_, sealed) in envelopes.items()}
    files[f"{EXAMPLES}/key-directory.json"] = sign_directory(directory, example_root()) + b"\n"
    files[f"{EXAMPLES}/trust-anchor.pub"] = (example_root().public_key_b64() + "\n").encode()
    files[f"{EXAMPLES}/README.md"] = _examples_readme(envelopes, directory).encode()
    return files


# -- AsyncAPI ------------------------------------------------------------------------------------

SECURITY_NOTES = """\
Every message is a DSSE envelope (envelope.schema.json) carrying one Ed25519 signature.

Security rules for every receiver:
- The signature covers PAE(payloadType, payload): "DSSEv1 <len type> <type> <len payload> <payload>",
  lengths in ASCII decimal bytes. The payload type, and so the kind, is bound into what is signed.
- Verify before parse: base64-decode the payload, verify the signature over those exact bytes, and only
  then parse them as JSON. Never re-serialise a payload to verify it.
- The keyid is only a hint. The key must be listed in the current GS-signed key directory, belong to the
  office named by the subject's sender token, and be valid and not revoked at header.created_at and at
  the JetStream storage time. A receiver that does not know a key id re-reads the last key directory
  once before refusing it.
- The signed header must agree with the subject (sender) and the payload type (kind), and name the
  receiver among its recipients. A notice-event travels only on the notice channel, a search-request only
  on the search channel, a search-result only on a reply subject (from the GS), every other kind only on
  the direct channel. NATS permissions (x-office-permissions) also bind each office to its own
  sender token.
- v1 receivers ignore unknown fields inside the signed header and body (x-unknown-fields in the
  schemas); the envelope and the signed content keep exactly their fields. The full order of checks,
  the strictness rules and the reject reason codes are in proto-schemas/README.md."""


def _stream(config: StreamConfig) -> Json:
    out: Json = {
        "name": config.name,
        "subjects": list(config.subjects or []),
        "storage": (config.storage or StorageType.FILE).value,
    }
    out["retention"] = (config.retention or RetentionPolicy.LIMITS).value
    if config.max_age:
        out["max_age_seconds"] = int(config.max_age)
    if config.duplicate_window:
        out["duplicate_window_seconds"] = int(config.duplicate_window)
    if config.max_msgs_per_subject and config.max_msgs_per_subject > 0:
        out["max_msgs_per_subject"] = config.max_msgs_per_subject
    if config.max_msg_size and config.max_msg_size > 0:
        out["max_msg_size"] = config.max_msg_size
    if config.max_bytes and config.max_bytes > 0:
        out["max_bytes"] = config.max_bytes
    if config.discard:
        out["discard"] = config.discard.value + (" (per subject)" if config.discard_new_per_subject else "")
    out["replicas"] = "STREAM_REPLICAS setting: 1 by default, 3 in production"
    return out


def _streams() -> list[Json]:
    """One direct stream per bus region (written once, with its recipient as a parameter), the keys."""
    directory = load_directory()
    direct = _stream(streams.direct_stream(directory, "emea"))
    direct["name"] = f"{subjects.DIRECT_STREAM}_{{REGION}}"
    direct["subjects"] = subjects.inbox_filters("{recipient}")
    direct["x-one-per"] = (
        "bus region (AMERICAS, EMEA, APAC); its subjects are those of every {recipient} attached to the region "
        "(directory data/bus_regions.csv); placed in the region's cluster in the regions topology"
    )
    mirror = {
        "name": f"{subjects.KEYS_STREAM}_{{REGION}}",
        "mirror": subjects.KEYS_STREAM,
        "x-one-per": "bus region other than the GS's, in the regions topology only",
    }
    return [direct, _stream(streams.keys_stream()), mirror]


def _consumer() -> Json:
    config = streams.inbox_consumer("{identifier}")
    return {
        "durable_name": config.durable_name,
        "x-durable-name": "{identifier} is the office id with dots and hyphens made underscores "
        "(lo.new-york -> inbox_lo_new_york; its subject token stays lo_new-york); provisioned by the admin, "
        "never created by an office",
        "filter_subjects": subjects.inbox_filters("{recipient}"),
        "ack_policy": config.ack_policy.value if config.ack_policy else None,
        "deliver_policy": config.deliver_policy.value if config.deliver_policy else None,
        "ack_wait_seconds": config.ack_wait,
        "max_ack_pending": config.max_ack_pending,
    }


def _office_permissions() -> Json:
    """What the server lets an office do (bus/permissions.py), written once with placeholders."""
    return {
        "description": "Each office's NKey user, as `interpol-mesh up` configures it. A publish outside this list "
        "is dropped by the server: the sender sees a PubAck timeout and an asynchronous permissions error. An "
        "office creates, lists or inspects no stream or consumer: the admin provisions them.",
        "publish": [
            subjects.direct("{self}", "{office}") + "  (for every office of the directory, itself included)",
            "$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}",
            "$JS.ACK.{stream}.{consumer}.>",
            "$JS.API.CONSUMER.INFO.{stream}.{consumer}",
            f"$JS.API.STREAM.MSG.GET.{subjects.KEYS_STREAM}",
            f"$JS.API.STREAM.MSG.GET.{subjects.KEYS_STREAM}_{{REGION}}  (offices outside the GS's bus region)",
            "$JS.API.INFO",
        ],
        "publish-gs-only": [
            subjects.notice("{office}") + "  (for every office but the GS)",
            subjects.KEY_DIRECTORY_SUBJECT,
        ],
        "subscribe": ["_INBOX_{self}.>", subjects.KEY_DIRECTORY_SUBJECT],
        "x-placeholders": "{self}, {office}: subject tokens; {stream}: the office's MESH_DIRECT_{REGION}; "
        "{consumer}: its durable consumer (x-jetstream-consumer)",
    }


def _operation(action: str, channel: str, refs: list[Json], summary: str) -> Json:
    return {"action": action, "channel": {"$ref": f"#/channels/{channel}"}, "messages": refs, "summary": summary}


def _payload(ptype: str) -> Json:
    return {"allOf": [{"$ref": "envelope.schema.json"}, {"properties": {"payloadType": {"const": ptype}}}]}


def asyncapi(envelopes: dict[str, tuple[Header, Sealed]], key_directory: bytes) -> Json:
    messages: Json = {}
    for kind, (header, sealed) in envelopes.items():
        doc = (BODY_MODELS[kind].__doc__ or f"A {kind} body.").strip()
        messages[kind] = {
            "name": kind,
            "title": f"{kind} envelope",
            "summary": doc,
            "description": f"Payload type {payload_type(kind)}; the signed body follows {kind}.schema.json.",
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/directHeaders"},
            "payload": _payload(payload_type(kind)),
            "x-body-schema": {"$ref": f"{kind}.schema.json"},
            "examples": [
                {
                    "name": f"examples/{kind}.json",
                    "headers": {"Nats-Msg-Id": example_msg_id(header.message_id, header.recipients[0])},
                    "payload": json.loads(sealed.data),
                }
            ],
        }
        if kind in subjects.SEARCH_KINDS:  # core NATS request/reply: no stream, so no Nats-Msg-Id
            del messages[kind]["headers"], messages[kind]["examples"][0]["headers"]
    messages["key-directory"] = {
        "name": "key-directory",
        "title": "Signed key directory",
        "summary": "Which office owns which public key; signed by the GS root key, the trust anchor.",
        "description": "Verify against the trust anchor before parsing; adopt only a higher version.",
        "contentType": "application/json",
        "payload": _payload(KEY_DIRECTORY_TYPE),
        "x-body-schema": {"$ref": "key-directory.schema.json"},
        "examples": [{"name": "examples/key-directory.json", "payload": json.loads(key_directory)}],
    }
    direct_kinds = [kind for kind in envelopes if subjects.family_for_kind(kind) == "direct"]
    search_refs = [{"$ref": "#/channels/search/messages/search-request"}]
    reply_refs = [{"$ref": "#/channels/searchReply/messages/search-result"}]
    direct_refs = [{"$ref": f"#/channels/direct/messages/{kind}"} for kind in direct_kinds]
    notice_refs = [{"$ref": f"#/channels/notice/messages/{subjects.NOTICE_KIND}"}]
    keys_ref = [{"$ref": "#/channels/keyDirectory/messages/key-directory"}]
    stream = f"{subjects.DIRECT_STREAM}_{{REGION}} (the recipient's bus region)"
    token = "An office id as one token: dots become underscores (ncb.fr -> ncb_fr, rb.buenos-aires -> rb_buenos-aires)."
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "interpol-mesh bus contract", "version": f"{SCHEMA_MAJOR}", "description": SECURITY_NOTES},
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "interpol-mesh up (single node). TLS only (tls://), with the development CA "
                "<DATA_DIR>/tls/ca.pem (certificate for 127.0.0.1, localhost, ::1); each office authenticates as "
                "its own NKey user (seed file <DATA_DIR>/keys/<office id>.nk) and sets its client inbox prefix to "
                "_INBOX_<subject token> (the default _INBOX. is not permitted). What it may publish and subscribe "
                "to: x-office-permissions.",
            }
        },
        "channels": {
            "direct": {
                "address": subjects.direct("{sender}", "{recipient}"),
                "title": "One envelope for one recipient office",
                "description": "Broadcasts are fanned out by the sender: the same bytes once per permitted recipient.",
                "parameters": {
                    "sender": {"description": f"Sender. {token}"},
                    "recipient": {"description": f"Recipient. {token}"},
                },
                "messages": {kind: {"$ref": f"#/components/messages/{kind}"} for kind in direct_kinds},
                "x-jetstream-stream": stream,
            },
            "notice": {
                "address": subjects.notice("{recipient}"),
                "title": "A notice event from the General Secretariat to one recipient office",
                "description": "Only the GS publishes here (the sender is gs); a notice-event on a direct subject, "
                "or any other kind here, is refused as header-mismatch.",
                "parameters": {"recipient": {"description": f"Recipient. {token}"}},
                "messages": {subjects.NOTICE_KIND: {"$ref": f"#/components/messages/{subjects.NOTICE_KIND}"}},
                "x-jetstream-stream": stream,
            },
            "search": {
                "address": subjects.search("{sender}"),
                "title": "An online police-data search (FIND) from an office to the General Secretariat",
                "description": "Core NATS request/reply, never stored on a stream (no Nats-Msg-Id, no inbox): the "
                "GS answers in the queue group police_data, and only on a reply subject under the sender's own "
                "client inbox prefix (_INBOX_<sender>.), which only the sender may subscribe to. A "
                "search-request anywhere else, or any other kind here, is refused as header-mismatch (step 15).",
                "parameters": {"sender": {"description": f"Sender. {token}"}},
                "messages": {"search-request": {"$ref": "#/components/messages/search-request"}},
            },
            "searchReply": {
                "address": subjects.reply_prefix("{requester}") + ".{reply}",
                "title": "The General Secretariat's signed search-result, on the request's reply subject",
                "description": "The subject's sender is gs (the one search responder). The result names the "
                "request's message_id (for_message_id) and the SHA-256 of its exact bytes (request_digest); the "
                "requester checks both and the GS's signature before using it. A search-result anywhere else, or "
                "any other kind here, is refused as header-mismatch (step 15).",
                "parameters": {
                    "requester": {"description": f"The office that sent the request. {token}"},
                    "reply": {"description": "The rest of the request's reply subject (one or more tokens)."},
                },
                "messages": {"search-result": {"$ref": "#/components/messages/search-result"}},
            },
            "keyDirectory": {
                "address": subjects.KEY_DIRECTORY_SUBJECT,
                "title": "The GS-signed key directory, last value kept",
                "messages": {"key-directory": {"$ref": "#/components/messages/key-directory"}},
                "x-jetstream-stream": f"{subjects.KEYS_STREAM} (regions: read from {subjects.KEYS_STREAM}_{{REGION}})",
            },
        },
        "operations": {
            "sendDirect": _operation("send", "direct", direct_refs, "Publish once per recipient, with Nats-Msg-Id."),
            "sendNotice": _operation(
                "send",
                "notice",
                notice_refs,
                "The GS publishes each notice event once per recipient, with Nats-Msg-Id.",
            ),
            "receiveInbox": _operation(
                "receive", "direct", direct_refs, "Pull the inbox through its durable consumer; ack after commit."
            )
            | {"x-jetstream-consumer": _consumer()},
            "receiveNotices": _operation(
                "receive", "notice", notice_refs, "Through the same durable consumer as receiveInbox (both filters)."
            ),
            "search": _operation("send", "search", search_refs, "Core NATS request; wait for the reply (2 s).")
            | {"reply": {"channel": {"$ref": "#/channels/searchReply"}}},
            "answerSearch": _operation(
                "receive", "search", search_refs, "The GS, in queue group police_data: verify, search, answer."
            )
            | {"reply": {"channel": {"$ref": "#/channels/searchReply"}, "messages": reply_refs}},
            "publishKeyDirectory": _operation("send", "keyDirectory", keys_ref, "The GS publishes each new version."),
            "followKeyDirectory": _operation(
                "receive", "keyDirectory", keys_ref, "Read the last value at start, then follow; adopt only newer."
            ),
        },
        "components": {
            "schemas": {
                "directHeaders": {
                    "type": "object",
                    "required": ["Nats-Msg-Id"],
                    "properties": {
                        "Nats-Msg-Id": {
                            "type": "string",
                            "description": "<message_id>:<recipient office id>:<random nonce>, fixed per outbox row. JetStream "
                            "drops a repeat within the stream's duplicate window; receivers also refuse a message id "
                            "they already accepted. The nonce stops another office from pre-empting the id.",
                        }
                    },
                }
            },
            "messages": messages,
        },
        "x-jetstream": {"streams": _streams()},
        "x-office-permissions": _office_permissions(),
    }


_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 ._/+-]*[A-Za-z0-9._/+-]|[A-Za-z]")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(value: Any) -> str:
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"  # only ever empty here
    text = str(value)
    plain = _PLAIN.fullmatch(text) and text.lower() not in _RESERVED
    return text if plain else json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


def _yaml(value: Any, indent: int = 0) -> list[str]:
    """A small deterministic YAML emitter: block mappings and sequences, literal blocks for multi-line text."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines += [f"{pad}{_scalar(key)}:", *_yaml(item, indent + 1)]
            elif isinstance(item, str) and "\n" in item:
                assert not item.endswith("\n") and not item.startswith(" ")
                lines += [f"{pad}{_scalar(key)}: |-", *(f"{pad}  {line}" if line else "" for line in item.split("\n"))]
            else:
                lines.append(f"{pad}{_scalar(key)}: {_scalar(item)}")
        return lines
    for item in value:
        if isinstance(item, dict | list) and item:
            nested = _yaml(item, indent + 1)
            lines += [f"{pad}- {nested[0].lstrip()}", *nested[1:]]
        else:
            lines.append(f"{pad}- {_scalar(item)}")
    return lines


def to_yaml(document: Json) -> str:
    return "\n".join([f"# {GENERATED}", *_yaml(document)]) + "\n"


# -- Driver --------------------------------------------------------------------------------------


def supercluster_files() -> Files:
    """One configuration per server of the production supercluster (deploy/nats/regions/)."""
    layout = production_layout()
    return {
        f"{REGIONS_DIR}/{spec.name}.conf": render_server_config(
            layout, spec, PRODUCTION_TLS, max_payload=MAX_PAYLOAD_BYTES, bind="0.0.0.0"
        ).encode()
        for spec in layout.servers
    }


def offices_file() -> Files:
    """The offices of the directory as a receiver needs them (steps 0 and 8) and as an office joins.

    "An office of the directory" decides `header-mismatch`; a national system not written in Python
    must not have to read the member directory's CSVs to know the set, its subject token, its inbox
    stream or its consumer.
    """
    directory = load_directory()
    plan = streams.StreamPlan(directory)
    offices = [
        {
            "id": o.id, "kind": o.kind, "name": o.name, "country": o.country,
            "subject_token": office_name(o.id, "subject"), "consumer": subjects.consumer_name(o.id),
            "bus_region": directory.bus_region_of(o.id), "inbox_stream": plan.inbox_stream(o.id),
        }
        for o in sorted(directory.offices.values(), key=lambda o: o.id)
    ]  # fmt: skip
    document = {"$comment": GENERATED, "version": SCHEMA_MAJOR, "offices": offices}
    return {f"{V1}/offices.json": _json(document)}


def render() -> Files:
    """Every generated file, path relative to the repository root -> exact bytes."""
    envelopes = example_envelopes()
    files = schema_files() | example_files(envelopes) | vector_files() | offices_file()
    key_directory = files[f"{EXAMPLES}/key-directory.json"].rstrip(b"\n")
    files[f"{V1}/asyncapi.yaml"] = to_yaml(asyncapi(envelopes, key_directory)).encode()
    files[NATS_CONF] = render_config().encode()
    files.update(supercluster_files())
    files |= render_deploy_files()
    monitoring = monitoring_files.render_files()
    unknown = monitoring_files.problems(monitoring)
    if unknown:  # a panel or alert on a metric nobody exports would stay empty or never fire
        raise SystemExit("\n".join([*unknown, "fix the query or the metric catalogue, then run `make gen`"]))
    files |= monitoring
    return dict(sorted(files.items()))


def drift(root: Path, files: Files) -> list[tuple[str, str]]:
    """(status, path) for each file that is missing, stale, or under proto-schemas/v1 but no longer generated."""
    found = []
    for rel, data in files.items():
        path = root / rel
        if not path.is_file():
            found.append(("missing", rel))
        elif path.read_bytes() != data:
            found.append(("stale", rel))
    for path in sorted((root / V1).rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel not in files:
            found.append(("extra", rel))
    return found


def problems(root: Path, files: Files) -> list[str]:
    """One clear line per file that `make gen` would write or remove."""
    notes = {"missing": "", "stale": "", "extra": " (no longer generated; `make gen` removes it)"}
    return [f"{status + ':':<8} {rel}{notes[status]}" for status, rel in drift(root, files)]


def write(root: Path, files: Files) -> list[str]:
    """Write what changed and remove files under proto-schemas/v1 that are no longer generated."""
    changed = []
    for status, rel in drift(root, files):
        path = root / rel
        if status == "extra":
            path.unlink()
            changed.append(f"removed: {rel}")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(files[rel])
            changed.append(f"wrote:   {rel}")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m interpol_offices.cli.generate", description="Generate or check proto-schemas/ and deploy/."
    )
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if any file would change")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this checkout)")
    args = parser.parse_args(argv)
    files = render()
    if args.check:
        found = problems(args.root, files)
        for line in found:
            print(line)
        if found:
            print(f"{len(found)} generated file(s) out of date: run `make gen` and commit the result", file=sys.stderr)
            return 1
        print(f"{len(files)} generated files up to date")
        return 0
    changed = write(args.root, files)
    print("\n".join(changed) if changed else "nothing to do", f"({len(files)} generated files)", sep="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
