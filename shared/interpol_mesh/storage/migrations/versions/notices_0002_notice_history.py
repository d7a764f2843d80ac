"""notice history: every status change of a notice, with who and why

Revision ID: notices_0002
Revises: 0001
Create Date: 2026-11-28 09:00:00

The `notices` row holds the current status and the review decision; this table keeps each
change (screened, published, refused, cancelled, expired, ...) so that a cancellation does not
overwrite the reason a reviewer gave for publishing a flagged notice.
"""

from alembic import op
import sqlalchemy as sa


revision = "notices_0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notice_history", schema=None) as batch_op:
        batch_op.create_index("ix_notice_history_notice", ["notice_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notice_history", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_history_notice")
    op.drop_table("notice_history")
