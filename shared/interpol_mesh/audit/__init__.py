"""Per-office audit log: an append-only, hash-chained record of envelopes and security decisions.

Importing this package registers the audit tables on the shared storage metadata.
"""

from interpol_mesh.audit.cli import audit_verify_command
from interpol_mesh.audit.head import SignedHead, head_signer, sign_head
from interpol_mesh.audit.model import AuditEvent
from interpol_mesh.audit.store import append_events
from interpol_mesh.audit.verify import VerifyReport, read_snapshot, verify_chain

__all__ = [
    "AuditEvent",
    "SignedHead",
    "VerifyReport",
    "append_events",
    "audit_verify_command",
    "head_signer",
    "read_snapshot",
    "sign_head",
    "verify_chain",
]
