"""One strict reading of the JSON that is signed or verified: each object key once, no NaN.

Python's json keeps the last of two equal keys, another parser may keep the first: the same signed
bytes would then say two things (say, two senders). Refusing duplicates at any depth leaves one
reading. The schema itself is then checked with pydantic in strict JSON mode by the caller.
"""

from __future__ import annotations

import json
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


def loads_strict(data: bytes | str) -> Any:
    """Parse UTF-8 JSON, refusing duplicate object keys anywhere and the non-standard NaN/Infinity.

    Bytes must be UTF-8 (json.loads would also take UTF-16 or UTF-32, which other readers do not).
    """
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
