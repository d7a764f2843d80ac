"""The closed label sets of the metrics, in one place, so every series exists from the start.

prometheus-client exports a labelled series only from its first `.labels()` call: a counter
that first moves from nothing to 1 makes `increase()` read 0, and an alert on the first critical
escalation or the first quarantine of a reason would never fire. `OfficeMetrics` (and the CCC's
metrics) therefore create every combination of these sets at construction, at 0.

The sets that belong to a layer above the metrics (the API's token refusals, the relay's publish
failures) are defined here and imported from there, so that they cannot drift apart.
"""

from __future__ import annotations

from typing import Literal, get_args

from interpol_mesh.envelope.rejection import RejectReason
from interpol_mesh.messages import Kind
from interpol_mesh.messages.common import Priority
from interpol_mesh.messages.exchange import Receipt

# Why the API refused a request (`token_refusals_total{reason}`): the token's own faults (401)
# and the role checks (403).
RefusalCode = Literal[
    "missing", "malformed", "unknown-key", "bad-signature", "wrong-key", "revoked-key", "wrong-audience",
    "expired", "bad-lifetime", "bad-roles", "forbidden-role", "role-refused",
]  # fmt: skip
# Why a publish failed (`publish_failures_total{reason}`, `messaging.relay.failure_reason`).
PublishFailure = Literal["unreachable", "refused", "full", "timeout", "other"]

KINDS: tuple[str, ...] = get_args(Kind)
# The kind of an envelope that never got far enough to say (unreadable, unknown sender...).
QUARANTINE_KINDS: tuple[str, ...] = (*KINDS, "unknown")
REJECT_REASONS: tuple[str, ...] = get_args(RejectReason)
# Refusals of the signature or its key, counted apart (`signature_failures_total`): forgery or a key problem.
SIGNATURE_REASONS: frozenset[str] = frozenset(
    {"bad-signature", "unknown-key", "wrong-office-key", "revoked-key", "key-not-valid-at-signing-time"}
)
REFUSAL_CODES: tuple[str, ...] = get_args(RefusalCode)
PUBLISH_FAILURES: tuple[str, ...] = get_args(PublishFailure)
RECEIPT_TYPES: tuple[str, ...] = get_args(Receipt.model_fields["receipt_type"].annotation)
PRIORITIES: tuple[str, ...] = get_args(Priority)
