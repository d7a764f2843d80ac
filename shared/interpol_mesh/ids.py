"""Time-ordered unique ids (UUIDv7, RFC 9562), drawn from an injected clock."""

from __future__ import annotations

import os
import threading
import uuid

from interpol_mesh.clock import Clock

_lock = threading.Lock()
_last_ms = 0
_seq = 0


def new_message_id(clock: Clock) -> str:
    """Return a UUIDv7 string; ids from one process sort by creation time.

    A 12-bit counter keeps ids from the same millisecond strictly increasing, so an inbox
    ordered by id is ordered by send time.
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
