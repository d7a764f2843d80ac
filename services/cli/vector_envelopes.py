"""Refusals of the envelope, signature, header, keys and clock: README steps 1-13, one cause per vector."""

from __future__ import annotations

import base64
from datetime import timedelta

from interpol_mesh.bus import subjects
from interpol_mesh.crypto import FileSigner
from interpol_mesh.envelope import MAX_CLOCK_SKEW, MAX_ENVELOPE_BYTES, seal
from interpol_mesh.messages import payload_type
from interpol_offices.cli.vector_kit import (
    DE_FR,
    EXPIRED_UNTIL,
    FUTURE_FROM,
    LATE_REVOKED_FROM,
    NOTICE_FR,
    NOW,
    REVOKED_FROM,
    SHORT_UNTIL,
    T0,
    VEHICLE_TEXT,
    LooseBody,
    Vector,
    body_change,
    compact,
    drop_field,
    header_change,
    header_of,
    key_signer,
    notice_event,
    notice_request,
    office_signer,
    outer_of,
    payload_of,
    plain,
    plain_refusal,
    refuse,
    resigned,
    resigned_raw,
    retyped,
    sealed,
    set_field,
    signature,
    test_signer,
    text_edit,
)


def _with_base64_alphabet(name: str) -> bytes:
    """A message whose standard base64 payload contains `+` or `/`, so that the URL-safe form differs."""
    for n in range(1000):
        data = sealed(
            name, "message", "ncb.de", ("ncb.fr",), {"title": "Vehicle check", "text": VEHICLE_TEXT + "?" * n}
        )
        payload = outer_of(data)["payload"]
        if "+" in payload or "/" in payload:
            return data
    raise AssertionError("no payload with + or / found")


def _url_safe(name: str) -> bytes:
    outer = outer_of(_with_base64_alphabet(name))
    outer["payload"] = outer["payload"].replace("+", "-").replace("/", "_")
    return compact(outer)


def _duplicate_outer(name: str) -> bytes:
    data = plain(name)
    ptype = b'"payloadType":"' + payload_type("message").encode() + b'"'
    return text_edit(data, ptype, ptype + b',"payloadType":"' + payload_type("diffusion").encode() + b'"')


def _duplicate_signed(name: str) -> bytes:
    """The sender named twice inside the signed bytes: two readers could see two senders."""
    data = plain(name)
    payload = text_edit(payload_of(data), b'"sender":"ncb.de"', b'"sender":"ncb.de","sender":"ncb.fr"')
    return resigned_raw(data, payload, office_signer("ncb.de"))


def _extra_outer(name: str) -> bytes:
    return compact(outer_of(plain(name)) | {"x_unsigned_note": "not covered by the signature"})


def _extra_signature_field(name: str) -> bytes:
    outer = outer_of(plain(name))
    outer["signatures"][0]["public_key"] = office_signer("ncb.de").public_key_b64()
    return compact(outer)


def _key_id_twice(name: str) -> bytes:
    outer = outer_of(plain(name))
    outer["signatures"] = [outer["signatures"][0], outer["signatures"][0]]
    return compact(outer)


def _no_signatures(name: str) -> bytes:
    return compact(outer_of(plain(name)) | {"signatures": []})


def _not_json(name: str) -> bytes:
    return plain(name)[:-7]


def _nan(name: str) -> bytes:
    data = plain(name)
    return resigned_raw(
        data, text_edit(payload_of(data), b'"language":"en"', b'"language":NaN'), office_signer("ncb.de")
    )


def _tamper(name: str) -> bytes:
    data = plain(name)
    outer = outer_of(data)
    payload = text_edit(payload_of(data), b"WDB123", b"WDB999")
    return compact(outer | {"payload": base64.b64encode(payload).decode()})


def _short_signature(name: str) -> bytes:
    outer = outer_of(plain(name))
    outer["signatures"][0]["sig"] = base64.b64encode(b"short").decode()
    return compact(outer)


def _type_swapped(name: str) -> bytes:
    """The payload type changed after signing: PAE binds it, so the signature no longer verifies."""
    outer = outer_of(plain(name))
    return compact(outer | {"payloadType": payload_type("diffusion")})


def _second_signature_bad(name: str) -> bytes:
    """Two signatures by two keys of ncb.de; the second signs other bytes. One bad entry refuses the whole."""
    data = plain(name)
    outer = outer_of(data)
    extra = signature(outer["payloadType"], b"other bytes", key_signer("late-revoked"))
    return compact(outer | {"signatures": [*outer["signatures"], extra]})


def _kind_mismatch(name: str) -> bytes:
    """Signed as a diffusion (payload type) while the signed header says message."""
    return resigned(plain(name), lambda _: None, office_signer("ncb.de"), payload_type("diffusion"))


def _oversized_loose(name: str) -> bytes:
    # The models cap a text at 20000 characters: the oversized message is signed as a loose body.
    text, data = "", b""
    while len(data) <= MAX_ENVELOPE_BYTES:
        text += "x" * max(1, (MAX_ENVELOPE_BYTES + 1 - len(data)) * 3 // 4)
        header = header_of(name, "message", "ncb.de", ("ncb.fr",))
        data = seal(
            header, LooseBody.model_validate({"title": "Oversized", "text": text}), office_signer("ncb.de")
        ).data
    return data


def _stateless_refusals() -> list[Vector]:
    de = office_signer("ncb.de")
    later = T0 + timedelta(hours=1)
    R = plain_refusal
    return [
        R("oversized", None, f"A validly signed message of {MAX_ENVELOPE_BYTES + 1} bytes or more.", _oversized_loose),
        R("malformed", "not-json", "The envelope is cut short: not JSON.", _not_json),
        R("malformed", "duplicate-key-outer", "The envelope has payloadType twice (message, then diffusion).",
          _duplicate_outer),
        R("malformed", "duplicate-key-signed", "The signed payload names the sender twice (ncb.de, then ncb.fr); "
          "the signature is good.", _duplicate_signed),
        R("malformed", "nan", "The signed payload contains NaN; the signature is good.", _nan),
        R("malformed", "extra-outer-field", "The envelope has a fourth, unsigned field beside payloadType, payload "
          "and signatures.", _extra_outer),
        R("malformed", "extra-signature-field", "A signature entry has a field beside keyid and sig.",
          _extra_signature_field),
        R("malformed", "url-safe-base64", "The payload is in the URL-safe base64 alphabet (- and _), not the "
          "standard one.", _url_safe),
        R("malformed", "key-id-twice", "The same signature (same key id) is listed twice.", _key_id_twice),
        R("malformed", "no-signatures", "The signatures list is empty.", _no_signatures),
        R("malformed", "header-time-as-number", "The signed header's created_at is a number, not RFC 3339 text.",
          header_change(set_field("created_at", 1767614400))),
        R("malformed", "header-duplicate-recipients", "The signed header lists the recipient ncb.fr twice.",
          header_change(set_field("recipients", ["ncb.fr", "ncb.fr"]))),
        R("malformed", "header-expires-before-created", "The signed header's expires_at is before its created_at.",
          header_change(set_field("expires_at", (T0 - timedelta(minutes=1)).isoformat()))),
        R("malformed", "header-missing-language", "The signed header has no language.",
          header_change(drop_field("language"))),
        R("malformed", "header-no-recipients", "The signed header's recipients list is empty.",
          header_change(set_field("recipients", []))),
        R("malformed", "header-message-id-uppercase", "The signed message_id is a UUID in upper case, not the "
          "canonical lower-case form.", header_change(lambda h: h.update(message_id=h["message_id"].upper()))),
        R("malformed", "header-kind-unknown", "The signed header's kind is `teleport`, no kind of v1, under the "
          "message payload type: the header breaks its schema before kinds are compared.",
          header_change(set_field("kind", "teleport"))),
        R("malformed", "header-expires-at-created", "The signed expires_at equals created_at: it must be after.",
          header_change(set_field("expires_at", T0.isoformat()))),
        R("malformed", "header-bad-language", "The signed language is `en_GB` (underscore): not a BCP 47 tag.",
          header_change(set_field("language", "en_GB"))),
        R("unsupported-type", "unknown-kind", "A v1 payload type of a kind no receiver knows (teleport).",
          retyped("application/vnd.interpol-mesh.teleport.v1+json")),
        R("unsupported-type", "foreign-type", "A payload type outside the mesh's naming (application/json).",
          retyped("application/json")),
        R("unsupported-version", "message-v2", "A message signed under payload type message.v2: a major version "
          "this v1 receiver does not speak.", retyped("application/vnd.interpol-mesh.message.v2+json")),
        R("unsupported-version", "unknown-kind-v3", "A v3 payload type of a kind v1 does not know: still a version "
          "refusal.", retyped("application/vnd.interpol-mesh.teleport.v3+json")),
        R("unknown-key", None, "Signed by a key id that is not in the key directory.",
          lambda n: plain(n, signer=test_signer("ncb.de stolen", "ncb.de", "ncb.de/not-in-directory"))),
        R("wrong-office-key", None, "Sent on ncb.de's subject as ncb.de, but signed with a key of ncb.es.",
          lambda n: resigned(plain(n), lambda _: None, office_signer("ncb.es"))),
        R("bad-signature", "payload-altered", "One word of the payload was changed after signing.", _tamper),
        R("bad-signature", "payload-type-altered", "The payload type was changed from message to diffusion after "
          "signing (the signature covers it).", _type_swapped),
        R("bad-signature", "short-signature", "The signature is 5 bytes, not 64.", _short_signature),
        R("bad-signature", "second-signature-bad", "Two signatures by two keys of ncb.de; the second does not "
          "verify over this payload.", _second_signature_bad),
        R("header-mismatch", "kind", "Signed under the diffusion payload type, but the signed header says message.",
          _kind_mismatch),
        R("header-mismatch", "sender", "Signed by ncb.de on ncb.de's subject, but the signed header says ncb.es.",
          header_change(set_field("sender", "ncb.es"))),
        R("header-mismatch", "non-office-recipient", "The signed recipients name ncb.zz, which is no office of the "
          "directory.", header_change(set_field("recipients", ["ncb.fr", "ncb.zz"]))),
        R("header-mismatch", "unknown-subject-sender", "A valid message from ncb.de arrives on a subject whose "
          "sender token (ncb_zz) names no office.", plain, subject=subjects.direct("ncb.zz", "ncb.fr")),
        R("not-a-recipient", None, "A valid message from ncb.de to ncb.es only, delivered to ncb.fr.",
          lambda n: sealed(n, "message", "ncb.de", ("ncb.es",), {"title": "Vehicle check", "text": VEHICLE_TEXT})),
        R("revoked-key", "signed-after-revocation", f"Signed at {T0.isoformat()} by an ncb.de key revoked from "
          f"{REVOKED_FROM.isoformat()}.", lambda n: plain(n, signer=key_signer("revoked"))),
        R("revoked-key", "stored-after-revocation", f"Dated before the key's revocation ({LATE_REVOKED_FROM.isoformat()}) "
          "but stored by the bus after it: a backdated signature.", lambda n: plain(n, signer=key_signer("late-revoked")),
          stored_at=later),
        R("key-not-valid-at-signing-time", "after-valid-until", f"Signed by an ncb.de key valid only until "
          f"{EXPIRED_UNTIL.isoformat()}.", lambda n: plain(n, signer=key_signer("expired"))),
        R("key-not-valid-at-signing-time", "before-valid-from", f"Signed by an ncb.de key valid only from "
          f"{FUTURE_FROM.isoformat()}.", lambda n: plain(n, signer=key_signer("future"))),
        R("key-not-valid-at-signing-time", "stored-after-valid-until", f"Dated inside the key's validity (until "
          f"{SHORT_UNTIL.isoformat()}) but stored by the bus more than 5 minutes after it ended.",
          lambda n: plain(n, signer=key_signer("short")), stored_at=later),
        R("from-the-future", None, "Created 6 minutes after the receiver's clock (the allowed skew is 5).",
          lambda n: plain(n, created_at=NOW + MAX_CLOCK_SKEW + timedelta(minutes=1),
                          expires_at=NOW + timedelta(days=1)), stored_at=None),
        R("expired", None, "Expired one minute before the receiver's clock.",
          lambda n: plain(n, expires_at=NOW - timedelta(minutes=1))),
        R("expired", "at-now", "Expires exactly at the receiver's clock: at that instant it is expired.",
          lambda n: plain(n, expires_at=NOW)),
        R("schema-invalid", "missing-field", "The message body has no text.", body_change(drop_field("text"))),
        R("schema-invalid", "wrong-type", "request_for_assistance is the string \"true\", not a boolean (no coercion).",
          body_change(set_field("request_for_assistance", "true"))),
        R("schema-invalid", "empty-title", "The title is empty (at least one character).",
          body_change(set_field("title", ""))),
        R("schema-invalid", "bad-reference", "A reference is not a canonical lowercase UUID.",
          body_change(set_field("references", ["0195F3A0-0000-7000-8000-000000000001"]))),
        _forged_directory_key(de),
    ]  # fmt: skip


def _forged_directory_key(de: FileSigner) -> Vector:
    """Signed by an ncb.de key id whose listed public key is not the signer's: the signature fails."""
    name = "refuse/bad-signature--key-id-borrowed"
    forger = test_signer("forger", "ncb.de", de.key_id)
    return Vector(name, "Signed with another private key under ncb.de's real key id.", "ncb.fr", DE_FR,
                  plain(name, signer=forger), refuse("bad-signature"))  # fmt: skip


def _notice_subject_refusals() -> list[Vector]:
    """Python's receiver also binds notice events to notice subjects (after the checks above)."""
    on_direct = notice_event("refuse/header-mismatch--notice-on-direct-subject", notice_request())
    message = sealed("refuse/header-mismatch--message-on-notice-subject", "message", "gs", ("ncb.fr",),
                     {"title": "Vehicle check", "text": VEHICLE_TEXT})  # fmt: skip
    return [
        Vector("refuse/header-mismatch--notice-on-direct-subject", "A valid co-signed notice event from the GS that "
               "arrives on a direct subject (mesh.v1.direct.gs.ncb_fr) instead of mesh.v1.notice.ncb_fr.", "ncb.fr",
               subjects.direct("gs", "ncb.fr"), on_direct, refuse("header-mismatch")),
        Vector("refuse/header-mismatch--message-on-notice-subject", "A valid GS message (not a notice event) that "
               "arrives on the notice subject mesh.v1.notice.ncb_fr.", "ncb.fr", NOTICE_FR, message,
               refuse("header-mismatch")),
    ]  # fmt: skip


def cases() -> list[Vector]:
    """Every stateless refusal, one cause each."""
    return [*_stateless_refusals(), *_notice_subject_refusals()]
