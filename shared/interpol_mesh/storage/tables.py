"""Tables every office owns in its own database (SQLite file or PostgreSQL schema).

SQLAlchemy Core, not the ORM: the consumer commits thousands of rows a second and the ORM costs
about 3x per row (see DESIGN.md). The Alembic migrations are the source of the real schema;
these definitions must match them (tests/test_migrations.py checks).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
TS = sa.DateTime(timezone=True)

inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("message_id", sa.String(36), primary_key=True),
    sa.Column("sender", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("payload_type", sa.String(120), nullable=False),
    sa.Column("notice_type", sa.String(20)),
    sa.Column("language", sa.String(35), nullable=False),
    sa.Column("priority", sa.String(10), nullable=False),
    sa.Column("correlation_id", sa.String(64)),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("expires_at", TS),
    sa.Column("received_at", TS, nullable=False),
    sa.Column("key_id", sa.String(80), nullable=False),
    # The key directory version that verified the message (NULL: stored before it was recorded).
    sa.Column("directory_version", sa.BigInteger),
    # Fields of the signed content this v1 receiver did not know and ignored (dotted paths; NULL: none,
    # or stored before inbox_0004). Part of the verification record, beside the directory version.
    sa.Column("ignored_fields", sa.JSON),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("stream_seq", sa.BigInteger),
    sa.Column("envelope", sa.LargeBinary, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("acknowledged_at", TS),
    sa.Index("ix_inbox_kind_received", "kind", "received_at"),
    sa.Index("ix_inbox_stream_seq", "stream_seq"),
)

sent = sa.Table(
    "sent",
    metadata,
    sa.Column("message_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("payload_type", sa.String(120), nullable=False),
    sa.Column("recipients", sa.JSON, nullable=False),
    sa.Column("correlation_id", sa.String(64)),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("envelope", sa.LargeBinary, nullable=False),
)

delivery = sa.Table(
    "delivery",
    metadata,
    sa.Column("message_id", sa.String(36), primary_key=True),
    sa.Column("recipient", sa.String(40), primary_key=True),
    sa.Column("delivered_at", TS),
    sa.Column("acknowledged_at", TS),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(36), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("dedupe_id", sa.String(120), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("published_at", TS),
    sa.Column("kind", sa.String(40)),  # for the relay's counts by kind (null: a row from before outbox_0003)
    sa.Column("trace_context", sa.Text),  # W3C trace context JSON, only when tracing is on (outbox_0003)
    sa.Index("ix_outbox_pending", "published_at", "seq"),
    sa.Index("ix_outbox_dedupe", "dedupe_id", unique=True),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("received_at", TS, nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("reason", sa.String(40), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("claimed_sender", sa.String(40)),
    sa.Column("message_id", sa.String(36)),
    sa.Column("stream_seq", sa.BigInteger),
    sa.Column("deliveries", sa.Integer, nullable=False, server_default="1"),
    sa.Column("raw", sa.LargeBinary, nullable=False),  # whole, or a prefix of unreadable input
    sa.Column("raw_size", sa.BigInteger, nullable=False),  # of the whole input, as received
    sa.Column("raw_sha256", sa.String(64), nullable=False),  # of the whole input
    # A refused receipt: the message of ours it was about, so GET /v1/sent/{id} shows it (quarantine_0003).
    sa.Column("about_message_id", sa.String(36)),
    sa.Index("ix_quarantine_reason", "reason"),
    sa.Index("ix_quarantine_about", "about_message_id"),
)

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("notice_id", sa.String(36), primary_key=True),
    sa.Column("notice_type", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("requesting_office", sa.String(40), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("request", sa.JSON, nullable=False),
    sa.Column("screening", sa.JSON, nullable=False),
    sa.Column("distribution", sa.JSON, nullable=False),
    sa.Column("reviewer", sa.String(80)),
    sa.Column("decision_reason", sa.Text),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("published_at", TS),
    sa.Column("expires_at", TS),
    sa.Index("ix_notices_status", "status"),
)

notice_history = sa.Table(
    "notice_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("notice_id", sa.String(36), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(80)),
    sa.Column("reason", sa.Text),
    sa.Column("message_id", sa.String(36)),
    # notices_0003: who signed what this entry records, [{office_id, key_id, role}] (NULL: nothing signed)
    sa.Column("signers", sa.JSON),
    sa.Index("ix_notice_history_notice", "notice_id", "id"),
)

office_keys = sa.Table(
    "office_keys",
    metadata,
    sa.Column("key_id", sa.String(80), primary_key=True),
    sa.Column("office_id", sa.String(40), nullable=False),
    sa.Column("public_key", sa.String(64), nullable=False),
    sa.Column("valid_from", TS, nullable=False),
    sa.Column("valid_until", TS),
    sa.Column("revoked_from", TS),
    sa.Column("revocation_reason", sa.Text),
    sa.Column("enrolled_by", sa.String(80)),  # keys_0002: the key that signed the rotation (None: provisioned)
    sa.Column("revoked_at", TS),  # keys_0002: when the GS decided the revocation (revoked_from may be earlier)
)

key_directory = sa.Table(
    "key_directory",
    metadata,
    sa.Column("version", sa.BigInteger, primary_key=True),
    sa.Column("issued_at", TS, nullable=False),
    sa.Column("signed", sa.LargeBinary, nullable=False),
)
