"""One strict reading of the JSON that is signed or verified: each object key once, no NaN.

Python's json keeps the last of two equal keys, another parser may keep the first: the same signed
bytes would then say two things (say, two senders). Refusing duplicates at any depth leaves one
reading. The schema itself is then checked with pydantic in strict JSON mode by the caller.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from typing import Any


class StrictJsonError(ValueError):
    """The bytes are not JSON with a single reading."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        dup = next(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        raise StrictJsonError(f"duplicate key {dup[:60]!r}")
    return obj


def _no_constant(name: str) -> Any:
    raise StrictJsonError(f"{name} is not JSON")


def _finite(text: str) -> float:
    """1e400 is valid JSON text but no double: Python reads it as infinity, which no field may hold."""
    value = float(text)
    if math.isinf(value):
        raise StrictJsonError(f"number {text[:40]} is too large for a double")
    return value


MAX_SAFE_INTEGER = 2**53 - 1
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _safe_int(text: str) -> int:
    """I-JSON (RFC 7493 §2.2): beyond ±(2^53-1) a JavaScript reader rounds, a Python one does not."""
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise StrictJsonError(f"integer {text[:40]} is beyond ±(2^53-1)")
    return value


def _no_lone_surrogate(value: Any) -> None:
    """I-JSON (RFC 7493 §2.1): a lone surrogate escape is no character; refused in any string or key."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise StrictJsonError("a lone surrogate escape is no Unicode character") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_lone_surrogate(key)
            _no_lone_surrogate(item)
    elif isinstance(value, list):
        for item in value:
            _no_lone_surrogate(item)


def loads_strict(data: bytes | str) -> Any:
    """Parse I-JSON (RFC 7493): UTF-8, no key twice anywhere, no NaN/Infinity, no number beyond what every reader reads alike.

    Bytes must be UTF-8 (json.loads would also take UTF-16 or UTF-32, which other readers do not). A
    surrogate pair escape is one character; a lone one is refused, known field or not, so an ignored
    unknown field cannot carry what a known one may not.
    """
    if isinstance(data, bytes):
        text = data.decode("utf-8")  # UTF-8 cannot encode a surrogate: only an escape can carry one
    else:
        text = data
        _no_lone_surrogate(text)  # a str may already hold one
    parsed = json.loads(
        text, object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite, parse_int=_safe_int
    )
    if _SURROGATE_ESCAPE.search(text):  # the walk only when an escape could be one
        _no_lone_surrogate(parsed)
    return parsed


def b64decode_canonical(text: str) -> bytes:
    """Standard padded base64 with one spelling per byte string: the unused low bits before `=` are zero.

    Python's decoder ignores those bits, so several texts would decode to the same signed bytes; a
    stricter reader refuses them. Refusing them here gives both the same decision (RFC 4648 §3.5).
    Raises ValueError (binascii.Error) as `base64.b64decode` does.
    """
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise binascii.Error("non-canonical base64: unused bits before the padding are not zero")
    return raw
