"""office_keys: which key enrolled each key, and when a revocation was decided

Revision ID: keys_0002
Revises: 0001
Create Date: 2026-12-01 12:40:00

A revocation "invalid from T" must also reach every key the revoked key enrolled at or after T
(a thief's successor key); the GS can only follow that chain if it stores who enrolled whom.
Keys provisioned by `keys init` have no enroller (NULL).

A revocation dated back (a theft found late) must still be listed for a while after it was
decided, not pruned at once for being older than the pruning horizon: `revoked_at` says when.
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
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("office_keys", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("enrolled_by")
