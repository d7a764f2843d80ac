"""Key rotation request: an office announces its next key, signed with its current one.

Signing the request with the key being replaced proves possession without any other channel;
the GS registers the new key with an overlap window and republishes the key directory.
"""

from __future__ import annotations

import base64
import binascii

from pydantic import Field, field_validator

from interpol_mesh.messages.common import Strict


class KeyRotation(Strict):
    new_key_id: str = Field(..., max_length=80)
    new_public_key: str = Field(..., min_length=40, max_length=64, description="base64 Ed25519 public key")
    overlap_seconds: int = Field(86_400, ge=0, le=30 * 86_400, description="How long the old key stays valid")

    @field_validator("new_public_key")
    @classmethod
    def _ed25519(cls, value: str) -> str:
        """A key that is not 32 bytes would poison every later key directory version."""
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not base64") from None
        if len(raw) != 32:
            raise ValueError(f"an Ed25519 public key is 32 bytes, not {len(raw)}")
        return value
