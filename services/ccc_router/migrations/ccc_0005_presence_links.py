"""CCC router: operator presence, related-case subjects and links, and a snooze time on cases

Revision ID: ccc_0005
Revises: ccc_0004
Create Date: 2026-12-02 01:30:00

Issue 15. `ccc_presence` holds each operator's current state (available, busy, away, offline) and
`ccc_presence_changes` every change, set or inferred. `ccc_case_subjects` indexes each case by what
it is about (a notice, a document, a person) so a second report on the same subject is linked to
the open case (`ccc_case_links`, one row per linked envelope) instead of opening another.
`ccc_cases.snoozed_until` shows when a snoozed acknowledged case re-triggers.
"""

import sqlalchemy as sa
from alembic import op

revision = "ccc_0005"
down_revision = "ccc_0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("ccc_cases", sa.Column("snoozed_until", _TS, nullable=True))
    op.create_table(
        "ccc_presence",
        sa.Column("operator_id", sa.String(40), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("since", _TS, nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("set_by", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_table(
        "ccc_presence_changes",
        sa.Column("change_id", _ID, primary_key=True, autoincrement=True),
        sa.Column("operator_id", sa.String(40), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("previous", sa.String(10), nullable=True),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("set_by", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_ccc_presence_changes_operator", "ccc_presence_changes", ["operator_id", "change_id"])
    op.create_table(
        "ccc_case_subjects",
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
    )
    op.create_index("ix_ccc_case_subjects_subject", "ccc_case_subjects", ["subject"])
    op.create_table(
        "ccc_case_links",
        sa.Column("link_id", _ID, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False, unique=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("sender", sa.String(40), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
    )
    op.create_index("ix_ccc_case_links_case", "ccc_case_links", ["case_id", "link_id"])


def downgrade() -> None:
    op.drop_table("ccc_case_links")
    op.drop_table("ccc_case_subjects")
    op.drop_table("ccc_presence_changes")
    op.drop_table("ccc_presence")
    with op.batch_alter_table("ccc_cases") as batch:
        batch.drop_column("snoozed_until")
