"""inbox: the unknown fields a v1 receiver ignored in each message

Revision ID: inbox_0004
Revises: inbox_0003
Create Date: 2026-12-02 05:00:00

Within v1 a sender may add optional fields; a receiver that does not know them accepts the message
and ignores them (proto-schemas/README.md, "Versioning"). The verification record names what was
ignored, as dotted paths (`body.person.x_new`), so that nobody wonders later why the stored
envelope says more than the body shown. NULL: nothing ignored, or stored before this revision.
"""

import sqlalchemy as sa
from alembic import op


revision = "inbox_0004"
down_revision = "inbox_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ignored_fields", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_column("ignored_fields")
