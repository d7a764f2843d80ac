"""Audit tables, declared on the shared storage metadata so the schema stays in one place.

Migration `audit_0002` creates exactly these (tests/test_audit.py compares them). Importing
`interpol_mesh.audit` registers them on `interpol_mesh.storage.tables.metadata`.
"""

from __future__ import annotations

import sqlalchemy as sa

from interpol_mesh.storage.tables import TS, metadata

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

HEAD_ID = 1
GENESIS_HASH = "0" * 64  # the "previous hash" of record #1: sha256-sized zero bytes, hex

# Field lengths, shared with the model so a hostile envelope's overlong field is cut, never
# turned into a database error that would roll back the transaction carrying the audit record.
EVENT_LEN = 40
ID_LEN = 80
DIGEST_LEN = 64
RESULT_LEN = 80

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("event", sa.String(EVENT_LEN), nullable=False),
    sa.Column("message_id", sa.String(ID_LEN)),
    sa.Column("digest", sa.String(DIGEST_LEN)),
    sa.Column("sender", sa.String(ID_LEN)),
    sa.Column("recipients", sa.JSON, nullable=False),
    sa.Column("result", sa.String(RESULT_LEN), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_log_message", "message_id"),
)

# One row (id = 1): the running head. Appenders take it first (UPDATE ... RETURNING), which
# serialises them on both backends, so the chain can never fork or reuse a sequence number.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

audit_head_signatures = sa.Table(
    "audit_head_signatures",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("signed_at", TS, nullable=False),
    sa.Column("key_id", sa.String(ID_LEN), nullable=False),
    sa.Column("signature", sa.String(100), nullable=False),  # base64 Ed25519 (88 chars)
    sa.Index("ix_audit_head_signatures_seq", "seq"),
)
