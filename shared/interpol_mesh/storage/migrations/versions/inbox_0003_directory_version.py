"""inbox: the key directory version that verified each message

Revision ID: inbox_0003
Revises: inbox_0002
Create Date: 2026-12-01 16:00:00

The verification record names the directory that verified a message, not the one current when
someone reads it: a key revoked later must not make an earlier acceptance look unexplained.
Rows stored before this revision keep NULL (their version was not recorded).
"""

import sqlalchemy as sa
from alembic import op


revision = "inbox_0003"
down_revision = "inbox_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("directory_version", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_column("directory_version")
