"""office_keys: which key enrolled each key

Revision ID: keys_0002
Revises: 0001
Create Date: 2026-12-01 12:40:00

A revocation "invalid from T" must also reach every key the revoked key enrolled at or after T
(a thief's successor key); the GS can only follow that chain if it stores who enrolled whom.
Keys provisioned by `keys init` have no enroller (NULL).
"""

import sqlalchemy as sa
from alembic import op


revision = "keys_0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("office_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enrolled_by", sa.String(80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("office_keys", schema=None) as batch_op:
        batch_op.drop_column("enrolled_by")
