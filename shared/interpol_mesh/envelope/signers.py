"""Who must have signed a message, per kind: the signer policy, checked after the body is valid.

Most kinds are one decision by one office: the sender's signature (checked before the payload is
parsed) is all there is. A published notice is two: the requesting office asked for it and the
General Secretariat published it. The GS signs the notice event; inside it travels the requesting
office's own signed request, which every recipient verifies against that office's key. A notice
missing either signature, or carrying a genuine request that is not this notice's, is refused.

Refusal reasons: `missing-signer` (a required signer did not sign), `bad-cosignature` (the inner
signature does not verify as the requester's), `cosignature-mismatch` (the inner request is genuine
but another one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from interpol_mesh.crypto import KeyDirectory
from interpol_mesh.envelope.header import Header


@dataclass(frozen=True)
class CoSigner:
    """A signature inside the message, beside the sender's: who, with which key, over which message."""

    office_id: str
    key_id: str
    message_id: str  # the co-signed message (for a notice: the request, whose id is the notice id)
    role: str  # "requester"


def check_signers(
    kind: str, header: Header, body: BaseModel, keys: KeyDirectory, *, now: datetime
) -> tuple[CoSigner, ...]:
    """Raise Rejected unless every signer the kind's policy requires signed; return the co-signers.

    Called by `open_envelope` after the body validated, so a policy failure never hides a schema one.
    """
    return ()  # TODO(issue 12, co-signed notices): the notice-event policy
