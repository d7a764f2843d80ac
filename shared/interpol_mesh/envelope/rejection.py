"""Why an envelope was refused: one code per failure, so each is counted and quarantined apart."""

from __future__ import annotations

from typing import Literal

RejectReason = Literal[
    "oversized",
    "malformed",
    "unsupported-type",
    "unsupported-version",
    "unknown-key",
    "wrong-office-key",
    "bad-signature",
    "revoked-key",
    "key-not-valid-at-signing-time",
    "header-mismatch",
    "not-a-recipient",
    "expired",
    "from-the-future",
    "replay",
    "schema-invalid",
    "missing-signer",
    "bad-cosignature",
    "cosignature-mismatch",
    "receipt-mismatch",
    "processing-failed",
]


class Rejected(Exception):
    """Raised by verification; `reason` is the stable code, `detail` says what exactly."""

    def __init__(self, reason: RejectReason, detail: str, *, message_id: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: RejectReason = reason
        self.detail = detail
        self.message_id = message_id
