"""CCC tables (SQLAlchemy Core), kept in their own MetaData so the shared library stays independent.

The migrations in `migrations/` (ccc_0002 to ccc_0005) create exactly these; a test compares the two.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only
_TS = sa.DateTime(timezone=True)

cases = sa.Table(
    "ccc_cases",
    metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("message_id", sa.String(36), nullable=True, unique=True, comment="envelope that opened it (bus intake)"),
    sa.Column("source", sa.String(10), nullable=False, comment="bus or api"),
    sa.Column("sender", sa.String(40), nullable=True),
    sa.Column("reported_by", sa.String(40), nullable=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("involved", sa.JSON(), nullable=False),
    sa.Column("priority", sa.String(10), nullable=False),
    sa.Column("language_tag", sa.String(35), nullable=True),
    sa.Column("language", sa.String(2), nullable=False, comment="case language after normalisation/detection"),
    sa.Column("language_decision", sa.JSON(), nullable=False),
    sa.Column("queue_language", sa.String(2), nullable=False),
    sa.Column("translation_needed", sa.Boolean(), nullable=False),
    sa.Column("status", sa.String(15), nullable=False),
    sa.Column("desk", sa.String(40), nullable=False),
    sa.Column("assigned_to", sa.String(40), nullable=True),
    sa.Column("escalation_level", sa.Integer(), nullable=False),
    sa.Column("escalated_to", sa.String(40), nullable=True),
    sa.Column("policy", sa.JSON(), nullable=False, comment="snapshot taken when the case opened"),
    sa.Column("dispatch", sa.JSON(), nullable=False, comment="the chain as last run"),
    sa.Column("opened_at", _TS, nullable=False),
    sa.Column("sent_at", _TS, nullable=True, comment="envelope created_at (bus intake)"),
    sa.Column("dispatched_at", _TS, nullable=False),
    sa.Column("acknowledged_at", _TS, nullable=True),
    sa.Column("acknowledged_by", sa.String(40), nullable=True),
    sa.Column("acknowledged_desk", sa.String(40), nullable=True),
    sa.Column("resolved_at", _TS, nullable=True),
    sa.Column("updated_at", _TS, nullable=False),
    sa.Column("version", sa.Integer(), nullable=False, comment="optimistic concurrency"),
    sa.Column("snoozed_until", _TS, nullable=True, comment="acknowledged and snoozed: re-triggers then"),
    sa.Index("ix_ccc_cases_status_desk", "status", "desk"),
    sa.Index("ix_ccc_cases_assigned_status", "assigned_to", "status"),
)

events = sa.Table(
    "ccc_case_events",
    metadata,
    sa.Column("event_id", _ID, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.String(36), nullable=False),
    sa.Column("at", _TS, nullable=False),
    sa.Column("actor", sa.String(40), nullable=False, comment="operator id, office id or 'system'"),
    sa.Column("action", sa.String(30), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Index("ix_ccc_case_events_case", "case_id", "event_id"),
)

deadlines = sa.Table(
    "ccc_deadlines",
    metadata,
    sa.Column("deadline_id", _ID, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.String(36), nullable=False),
    sa.Column("level", sa.Integer(), nullable=False),
    sa.Column("repeat", sa.Integer(), nullable=False),
    sa.Column("target", sa.String(20), nullable=False),
    sa.Column("condition", sa.String(20), nullable=False),
    sa.Column("due_at", _TS, nullable=False),
    sa.Column("fired_at", _TS, nullable=True),
    sa.Column("cancelled_at", _TS, nullable=True),
    sa.Column("outcome", sa.String(300), nullable=True),
    sa.Index("ix_ccc_deadlines_pending", "fired_at", "cancelled_at", "due_at"),
    sa.Index("ix_ccc_deadlines_case", "case_id"),
)

handovers = sa.Table(
    "ccc_handovers",
    metadata,
    sa.Column("handover_id", _ID, primary_key=True, autoincrement=True),
    sa.Column("boundary_at", _TS, nullable=False, unique=True),
    sa.Column("from_desk", sa.String(40), nullable=False),
    sa.Column("to_desk", sa.String(40), nullable=False),
    sa.Column("performed_at", _TS, nullable=False),
    sa.Column("moved", sa.JSON(), nullable=False),
)

roster_versions = sa.Table(
    "ccc_roster_versions",
    metadata,
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("source", sa.String(10), nullable=False, comment="file or api"),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("document", sa.JSON(), nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
)

roster_overrides = sa.Table(
    "ccc_roster_overrides",
    metadata,
    sa.Column("override_id", _ID, primary_key=True, autoincrement=True),
    sa.Column("operator", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("starts_at", _TS, nullable=False),
    sa.Column("ends_at", _TS, nullable=False),
    sa.Column("desk", sa.String(40), nullable=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("created_by", sa.String(40), nullable=False),
    sa.Column("cancelled_at", _TS, nullable=True),
)

token_cutoffs = sa.Table(
    "ccc_token_cutoffs",
    metadata,
    sa.Column("operator_id", sa.String(40), primary_key=True),
    sa.Column("not_before", _TS, nullable=False, comment="the operator's tokens issued before this are refused"),
    sa.Column("revoked_by", sa.String(40), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
)

presence = sa.Table(
    "ccc_presence",
    metadata,
    sa.Column("operator_id", sa.String(40), primary_key=True),
    sa.Column("state", sa.String(10), nullable=False, comment="available, busy, away or offline"),
    sa.Column("since", _TS, nullable=False),
    sa.Column("source", sa.String(10), nullable=False, comment="operator, colleague or inferred"),
    sa.Column("set_by", sa.String(40), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),
)

presence_changes = sa.Table(
    "ccc_presence_changes",
    metadata,
    sa.Column("change_id", _ID, primary_key=True, autoincrement=True),
    sa.Column("operator_id", sa.String(40), nullable=False),
    sa.Column("at", _TS, nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("previous", sa.String(10), nullable=True),
    sa.Column("source", sa.String(10), nullable=False),
    sa.Column("set_by", sa.String(40), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("data", sa.JSON(), nullable=False, comment="e.g. the cases moved away from the operator"),
    sa.Index("ix_ccc_presence_changes_operator", "operator_id", "change_id"),
)

case_subjects = sa.Table(
    "ccc_case_subjects",
    metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column(
        "subject",
        sa.String(200),
        primary_key=True,
        comment="notice:<id>, person:<names>:<dob>, document:<no>, vehicle:<vin>",
    ),
    sa.Index("ix_ccc_case_subjects_subject", "subject"),
)

case_links = sa.Table(
    "ccc_case_links",
    metadata,
    sa.Column("link_id", _ID, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.String(36), nullable=False),
    sa.Column("message_id", sa.String(36), nullable=False, unique=True, comment="the linked envelope, once"),
    sa.Column("at", _TS, nullable=False),
    sa.Column("sender", sa.String(40), nullable=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("priority", sa.String(10), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("subjects", sa.JSON(), nullable=False, comment="the subjects it shares with the case"),
    sa.Index("ix_ccc_case_links_case", "case_id", "link_id"),
)

OPEN_STATUSES = ("dispatched", "acknowledged")
