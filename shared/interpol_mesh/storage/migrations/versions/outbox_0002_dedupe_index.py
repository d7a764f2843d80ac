"""outbox: unique index on dedupe_id

Revision ID: outbox_0002
Revises: 0001
Create Date: 2026-11-27 15:30:00

The relay publishes rows from memory right after their transaction commits and marks them
published by their `Nats-Msg-Id` (`dedupe_id`), which is unique by construction (message id,
recipient and a random nonce); the index makes that update a lookup rather than a scan.
"""

from alembic import op


revision = "outbox_0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_dedupe", ["dedupe_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_dedupe")
