"""DSSE pre-authentication encoding: binds the payload type into what is signed."""

from __future__ import annotations


def pae(payload_type: str, payload: bytes) -> bytes:
    """`DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`, as in the DSSE protocol."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(type_bytes), type_bytes, len(payload), payload)
