"""Per-office audit log: an append-only, hash-chained record of envelopes and security decisions.

Importing this package registers the audit tables on the shared storage metadata. The
`interpol-mesh audit verify` command around these checks lives with the CLI (`interpol_offices.cli.audit`).
"""

from interpol_mesh.audit.head import SignedHead, head_signer, sign_head
from interpol_mesh.audit.key_history import head_key_history
from interpol_mesh.audit.model import AuditEvent
from interpol_mesh.audit.store import append_events
from interpol_mesh.audit.verify import VerifyReport, read_snapshot, verify_chain

__all__ = [
    "AuditEvent",
    "SignedHead",
    "VerifyReport",
    "append_events",
    "head_key_history",
    "head_signer",
    "read_snapshot",
    "sign_head",
    "verify_chain",
]
