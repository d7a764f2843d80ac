"""The edges: each time rule at its limit, and how bytes are read where implementations differ most."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta

from interpol_mesh.bus import subjects
from interpol_mesh.crypto import FileSigner
from interpol_mesh.envelope import MAX_CLOCK_SKEW
from interpol_offices.cli.vector_kit import (
    DE_FR,
    LATE_REVOKED_FROM,
    NOW,
    SHORT_UNTIL,
    T0,
    VEHICLE_TEXT,
    Json,
    Vector,
    accept,
    compact,
    header_change,
    key_signer,
    office_signer,
    outer_of,
    payload_edit,
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


def _boundaries() -> list[Vector]:
    """The edges of every time rule, where two implementations most easily differ by one comparison."""
    skew_edge = "accept/message--created-at-skew-limit"
    grace = "accept/message--stored-within-key-grace"
    offsets = "accept/message--times-with-offsets"

    def with_offsets(content: Json) -> None:
        content["header"]["created_at"] = "2026-01-05T13:00:00+01:00"  # = T0
        content["header"]["expires_at"] = "2026-01-06T07:00:00-05:00"  # = T0 + 24 h

    offset_data = resigned(plain(offsets), with_offsets, office_signer("ncb.de"))
    edge = plain(skew_edge, created_at=NOW + MAX_CLOCK_SKEW)
    graced = plain(grace, created_at=T0 + timedelta(minutes=5), signer=key_signer("short"))
    at_revocation = "refuse/revoked-key--revoked-at-signing-time"
    at_until = "refuse/key-not-valid-at-signing-time--signed-at-valid-until"
    return [
        Vector(skew_edge, "Created exactly 5 minutes after the receiver's clock: the skew allowed, not more.", "ncb.fr",
               DE_FR, edge, accept(edge), stored_at=None),
        Vector(grace, f"Signed inside the key's validity (until {SHORT_UNTIL.isoformat()}) and stored 4 minutes after "
               "it ended, within the bus's 5 minutes of grace.", "ncb.fr", DE_FR, graced, accept(graced),
               stored_at=SHORT_UNTIL + timedelta(minutes=4)),
        Vector(offsets, "Header times written with +01:00 and -05:00 offsets: compared as instants, not as text.",
               "ncb.fr", DE_FR, offset_data, accept(offset_data)),
        Vector(at_revocation, f"Signed at the very instant the key's revocation starts ({LATE_REVOKED_FROM.isoformat()}).",
               "ncb.fr", DE_FR, plain(at_revocation, created_at=LATE_REVOKED_FROM, signer=key_signer("late-revoked")),
               refuse("revoked-key"), stored_at=None),
        Vector(at_until, f"Signed at the very instant the key's validity ends ({SHORT_UNTIL.isoformat()}): the end is "
               "exclusive.", "ncb.fr", DE_FR, plain(at_until, created_at=SHORT_UNTIL, signer=key_signer("short")),
               refuse("key-not-valid-at-signing-time"), stored_at=None),
    ]  # fmt: skip


def _with_bom(name: str) -> bytes:
    data = plain(name)
    return resigned_raw(data, b"\xef\xbb\xbf" + payload_of(data), office_signer("ncb.de"))


def _nonzero_pad_bits(name: str) -> bytes:
    """The payload's last base64 character before `==` with its unused low bits set: same bytes, other text."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for n in range(1, 10):
        data = sealed(
            name, "message", "ncb.de", ("ncb.fr",), {"title": "Vehicle check", "text": VEHICLE_TEXT + "!" * n}
        )
        outer = outer_of(data)
        if outer["payload"].endswith("=="):
            text = outer["payload"]
            altered = text[:-3] + alphabet[alphabet.index(text[-3]) + 1] + "=="
            assert base64.b64decode(altered) == base64.b64decode(text)
            return compact(outer | {"payload": altered})
    raise AssertionError("no payload ending in ==")


def _reformatted(name: str) -> bytes:
    """The envelope re-serialised by another JSON writer: other key order, whitespace; same payload."""
    outer = outer_of(plain(name))
    return json.dumps({k: outer[k] for k in ("signatures", "payload", "payloadType")}, indent=1).encode()


def _two_signatures(first: FileSigner, second: FileSigner) -> Callable[[str], bytes]:
    def build(name: str) -> bytes:
        data = plain(name)
        outer, payload = outer_of(data), payload_of(data)
        sigs = [signature(outer["payloadType"], payload, s) for s in (first, second)]
        return compact(outer | {"signatures": sigs})

    return build


def _edited_diffusion(name: str, body: Json, old: bytes, new: bytes) -> bytes:
    data = sealed(name, "diffusion", "ncb.de", ("ncb.fr",), body)
    return resigned_raw(data, text_edit(payload_of(data), old, new), office_signer("ncb.de"))


def _readings() -> list[Vector]:
    """How the bytes are read: JSON, base64, numbers and times where readers differ most."""
    R = plain_refusal
    kr_body = {"new_key_id": "ncb.de/20260201T000000-next", "new_public_key": key_signer("late-revoked").public_key_b64(),
               "overlap_seconds": 86_400}  # fmt: skip
    float_name = "refuse/schema-invalid--integer-as-float"
    kr = sealed(float_name, "key-rotation", "ncb.de", ("gs",), kr_body)
    as_float = resigned_raw(kr, text_edit(payload_of(kr), b'"overlap_seconds":86400', b'"overlap_seconds":86400.0'),
                            office_signer("ncb.de"))  # fmt: skip
    inf_name = "refuse/malformed--number-overflows-to-infinity"
    diffusion = {"diffusion_type": "information", "title": "Information (test vector)", "text": VEHICLE_TEXT,
                 "offence": {"description": "Fraud (test vector)", "max_penalty_years": 5}}  # fmt: skip
    dif = sealed(inf_name, "diffusion", "ncb.de", ("ncb.fr",), diffusion)
    infinite = resigned_raw(dif, text_edit(payload_of(dif), b'"max_penalty_years":5.0', b'"max_penalty_years":1e400'),
                            office_signer("ncb.de"))  # fmt: skip
    z_name, pad_name, fmt_name = "accept/message--time-z-and-nanoseconds", "refuse/malformed--base64-nonzero-pad-bits", \
        "accept/message--envelope-reformatted"  # fmt: skip
    zulu = resigned(plain(z_name), lambda c: c["header"].update(created_at="2026-01-05T12:00:00.123456789Z"),
                    office_signer("ncb.de"))  # fmt: skip
    pad, fmt = _nonzero_pad_bits(pad_name), _reformatted(fmt_name)
    return [
        R("malformed", "utf8-bom", "The signed payload starts with a UTF-8 byte order mark; the signature is good.",
          _with_bom),
        R("malformed", "escaped-duplicate-key", "The signed body has `title` twice, once written `\\u0074itle`: "
          "keys are compared after unescaping.", payload_edit(b'"title":"Vehicle check"',
                                                               b'"title":"Vehicle check","\\u0074itle":"Other"')),
        R("malformed", "lone-surrogate", "The signed body's text contains the escape `\\ud800`, a lone surrogate "
          "that is no Unicode character.", payload_edit(b'"text":"Please', b'"text":"\\ud800Please')),
        Vector(inf_name, "A number in the signed body (1e400) is too large for a double: it would read as Infinity.",
               "ncb.fr", DE_FR, infinite, refuse("malformed")),
        R("malformed", "lone-surrogate-in-unknown-field", "An unknown body field (which a v1 receiver would ignore) "
          "holds the escape `\\udc00`: no character, refused wherever it is (I-JSON, RFC 7493).",
          payload_edit(b'"text":"Please', b'"x_note":"\\udc00","text":"Please')),
        R("malformed", "integer-beyond-2-53", "offence.max_penalty_years is the integer 9007199254740993 (2^53+1): "
          "beyond what every JSON reader reads exactly (I-JSON, RFC 7493).",
          lambda n: _edited_diffusion(n, diffusion, b'"max_penalty_years":5.0', b'"max_penalty_years":9007199254740993')),
        R("malformed", "header-time-with-space", "The signed created_at separates date and time with a space, not `T`.",
          header_change(set_field("created_at", "2026-01-05 12:00:00+00:00"))),
        R("malformed", "expires-equal-at-microseconds", "created_at 12:00:00.0000001Z and expires_at 12:00:00.0000009Z: "
          "times are compared at microsecond precision, so expires_at is not after created_at.",
          header_change(lambda h: h.update(created_at="2026-01-05T12:00:00.0000001Z",
                                           expires_at="2026-01-05T12:00:00.0000009Z"))),
        R("malformed", "header-leap-second", "The signed created_at is a leap second (`23:59:60`), which the mesh "
          "does not accept.", header_change(set_field("created_at", "2026-01-04T23:59:60+00:00"))),
        R("schema-invalid", "body-not-object", "The signed body is a JSON array, not an object.",
          lambda n: resigned(plain(n), lambda c: c.update(body=[]), office_signer("ncb.de"))),
        Vector(float_name, "overlap_seconds is written 86400.0: an integer field takes no number with a fraction "
               "part, even a zero one.", "gs", subjects.direct("ncb.de", "gs"), as_float, refuse("schema-invalid")),
        R("unsupported-version", "v0", "Payload type message.v0: any major version other than 1 is a version refusal.",
          retyped("application/vnd.interpol-mesh.message.v0+json")),
        R("unknown-key", "first-of-two-signatures", "Two signatures: an unknown key id, then a key of ncb.es. Each "
          "signature is checked fully (steps 4-6) before the next, in list order.",
          _two_signatures(test_signer("ncb.de stolen", "ncb.de", "ncb.de/not-in-directory"), office_signer("ncb.es"))),
        R("key-not-valid-at-signing-time", "first-of-two-keys", "Two good signatures by ncb.de keys: the first "
          "expired, the second revoked. Step 10 takes the keys in list order.",
          _two_signatures(key_signer("expired"), key_signer("revoked"))),
        Vector(z_name, "created_at written with `Z` and nine fraction digits (RFC 3339 allows both).", "ncb.fr", DE_FR,
               zulu, accept(zulu)),
        Vector(pad_name, "The payload's base64 has non-zero unused bits before its padding: another spelling of the "
               "signed bytes, refused so that every reader decides alike (RFC 4648 section 3.5).", "ncb.fr", DE_FR, pad,
               refuse("malformed")),
        Vector(fmt_name, "The envelope written by another JSON writer (other key order, whitespace): only the payload "
               "bytes are signed.", "ncb.fr", DE_FR, fmt, accept(fmt)),
    ]  # fmt: skip


def cases() -> list[Vector]:
    """The limits of the time rules and the readings of bytes."""
    return [*_boundaries(), *_readings()]
