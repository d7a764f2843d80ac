"""Key rotation request: an office announces its next key, signed with its current one.

Signing the request with the key being replaced proves possession without any other channel;
the GS registers the new key with an overlap window and republishes the key directory.
"""

from __future__ import annotations

from pydantic import Field

from interpol_mesh.messages.common import Strict


class KeyRotation(Strict):
    new_key_id: str = Field(..., max_length=80)
    new_public_key: str = Field(..., min_length=40, max_length=64, description="base64 Ed25519 public key")
    overlap_seconds: int = Field(86_400, ge=0, le=30 * 86_400, description="How long the old key stays valid")
