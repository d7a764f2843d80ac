"""Time-ordered unique ids (UUIDv7, RFC 9562), drawn from an injected clock."""

from __future__ import annotations

import os
import threading
import uuid
from typing import Annotated

from pydantic import Field

from interpol_mesh.clock import Clock

MESSAGE_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
MessageId = Annotated[
    str,
    Field(
        pattern=MESSAGE_ID_PATTERN,
        min_length=36,
        max_length=36,
        description="Canonical lowercase UUID (the mesh mints UUIDv7)",
        examples=["019b8e2a-6c00-7000-8000-000000000001"],
    ),
]
"""The one format of every id that names a message, notice or case on the wire.

Ids are stored, put in URLs and compared as strings: a fixed format means no id can hold a path
separator, a NUL or another spelling of the same UUID.
"""

_lock = threading.Lock()
_last_ms = 0
_seq = 0


def new_message_id(clock: Clock) -> str:
    """Return a UUIDv7 string; ids from one process sort by creation time.

    A 12-bit counter keeps ids from the same millisecond strictly increasing. Receivers do not
    order by id (a sender chooses it): the inbox is listed by the bus's arrival sequence.
    """
    global _last_ms, _seq
    ms = int(clock.now().timestamp() * 1000)
    with _lock:
        if ms <= _last_ms:
            _seq += 1
            if _seq > 0xFFF:
                _last_ms += 1
                _seq = 0
            ms = _last_ms
        else:
            _last_ms = ms
            _seq = 0
        seq = _seq
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | rand
    return str(uuid.UUID(int=value))
