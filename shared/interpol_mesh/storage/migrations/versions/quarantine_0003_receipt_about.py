"""quarantine: the sent message a refused receipt was about

Revision ID: quarantine_0003
Revises: quarantine_0002
Create Date: 2026-12-02 05:00:00

A receipt refused as `receipt-mismatch` (a wrong digest, a signer that was no recipient...) is
evidence the sender of the original message must see where it looks, GET /v1/sent/{id}. The
quarantine row now names that message (`for_message_id` of the verified receipt), indexed for that
lookup. Rows stored before this revision keep NULL: they are still listed in /v1/quarantine.
"""

import sqlalchemy as sa
from alembic import op


revision = "quarantine_0003"
down_revision = "quarantine_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.add_column(sa.Column("about_message_id", sa.String(length=36), nullable=True))
        batch_op.create_index("ix_quarantine_about", ["about_message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantine_about")
        batch_op.drop_column("about_message_id")
