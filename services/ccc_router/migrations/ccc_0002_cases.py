"""CCC router: cases, append-only case events, escalation deadlines, handovers, rosters, operator tokens

Revision ID: ccc_0002
Revises: 0001
Create Date: 2026-03-02 09:00:00

Written by hand to match services/ccc_router/tables.py (tests/test_ccc_storage.py compares them).
It lived in the mesh's migrations until the CCC got its own folder (storage/migrate.py); the id is
unchanged so CCC databases that ran it carry on. ccc_0003 drops the operator tokens table again.
"""

import sqlalchemy as sa
from alembic import op

revision = "ccc_0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ccc_cases",
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("message_id", sa.String(36), nullable=True, unique=True),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("sender", sa.String(40), nullable=True),
        sa.Column("reported_by", sa.String(40), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("involved", sa.JSON(), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("language_tag", sa.String(35), nullable=True),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("language_decision", sa.JSON(), nullable=False),
        sa.Column("queue_language", sa.String(2), nullable=False),
        sa.Column("translation_needed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(15), nullable=False),
        sa.Column("desk", sa.String(40), nullable=False),
        sa.Column("assigned_to", sa.String(40), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_to", sa.String(40), nullable=True),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("dispatch", sa.JSON(), nullable=False),
        sa.Column("opened_at", _TS, nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("dispatched_at", _TS, nullable=False),
        sa.Column("acknowledged_at", _TS, nullable=True),
        sa.Column("acknowledged_by", sa.String(40), nullable=True),
        sa.Column("acknowledged_desk", sa.String(40), nullable=True),
        sa.Column("resolved_at", _TS, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_ccc_cases_status_desk", "ccc_cases", ["status", "desk"])
    op.create_index("ix_ccc_cases_assigned_status", "ccc_cases", ["assigned_to", "status"])

    op.create_table(
        "ccc_case_events",
        sa.Column("event_id", _ID, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_ccc_case_events_case", "ccc_case_events", ["case_id", "event_id"])

    op.create_table(
        "ccc_deadlines",
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
    )
    op.create_index("ix_ccc_deadlines_pending", "ccc_deadlines", ["fired_at", "cancelled_at", "due_at"])
    op.create_index("ix_ccc_deadlines_case", "ccc_deadlines", ["case_id"])

    op.create_table(
        "ccc_handovers",
        sa.Column("handover_id", _ID, primary_key=True, autoincrement=True),
        sa.Column("boundary_at", _TS, nullable=False, unique=True),
        sa.Column("from_desk", sa.String(40), nullable=False),
        sa.Column("to_desk", sa.String(40), nullable=False),
        sa.Column("performed_at", _TS, nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
    )

    op.create_table(
        "ccc_roster_versions",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )

    op.create_table(
        "ccc_roster_overrides",
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

    op.create_table(
        "ccc_operator_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("operator_id", sa.String(40), nullable=False),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("issued_at", _TS, nullable=False),
        sa.Column("issued_by", sa.String(40), nullable=False),
        sa.Column("expires_at", _TS, nullable=True),
        sa.Column("revoked_at", _TS, nullable=True),
    )
    op.create_index("ix_ccc_operator_tokens_operator", "ccc_operator_tokens", ["operator_id"])

    # The case timeline is evidence: the database itself refuses to change or delete an event.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION ccc_case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'ccc_case_events is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER ccc_case_events_no_change BEFORE UPDATE OR DELETE ON ccc_case_events "
            "FOR EACH ROW EXECUTE FUNCTION ccc_case_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ccc_case_events_no_{verb.lower()} BEFORE {verb} ON ccc_case_events "
                "BEGIN SELECT RAISE(ABORT, 'ccc_case_events is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ccc_case_events_no_change ON ccc_case_events")
        op.execute("DROP FUNCTION IF EXISTS ccc_case_events_append_only()")
    for table in (
        "ccc_operator_tokens",
        "ccc_roster_overrides",
        "ccc_roster_versions",
        "ccc_handovers",
        "ccc_deadlines",
        "ccc_case_events",
        "ccc_cases",
    ):
        op.drop_table(table)
