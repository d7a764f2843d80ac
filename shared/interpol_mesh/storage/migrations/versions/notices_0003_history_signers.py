"""notice history: who signed the message each entry records

Revision ID: notices_0003
Revises: notices_0002
Create Date: 2026-12-02 05:00:00

A published notice is two decisions, the requesting office's and the General Secretariat's; the
history shows both signatures ([{office_id, key_id, role}]). Entries recorded before have NULL.
"""

import sqlalchemy as sa
from alembic import op


revision = "notices_0003"
down_revision = "notices_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notice_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notice_history", schema=None) as batch_op:
        batch_op.drop_column("signers")
