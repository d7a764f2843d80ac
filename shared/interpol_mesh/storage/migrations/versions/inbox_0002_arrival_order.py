"""inbox: index on the stream sequence, the order of arrival

Revision ID: inbox_0002
Revises: 0001
Create Date: 2026-12-01 13:00:00

The inbox is listed newest arrival first by the sequence the bus assigned (`stream_seq`), not by
the message id a sender chooses; the index makes each page a range read rather than a sort.
"""

from alembic import op


revision = "inbox_0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_stream_seq", ["stream_seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_stream_seq")
