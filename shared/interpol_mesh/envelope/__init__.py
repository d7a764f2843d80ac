"""The signed envelope: header + body, DSSE-signed with Ed25519, verified before it is parsed."""

from interpol_mesh.envelope.codec import (
    MAX_ENVELOPE_BYTES,
    Sealed,
    Verified,
    digest_of,
    open_envelope,
    seal,
)
from interpol_mesh.envelope.header import MAX_CLOCK_SKEW, Header
from interpol_mesh.envelope.rejection import Rejected, RejectReason

__all__ = [
    "MAX_CLOCK_SKEW",
    "MAX_ENVELOPE_BYTES",
    "Header",
    "RejectReason",
    "Rejected",
    "Sealed",
    "Verified",
    "digest_of",
    "open_envelope",
    "seal",
]
