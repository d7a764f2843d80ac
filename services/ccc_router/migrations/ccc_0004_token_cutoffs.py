"""CCC router: a per-operator "tokens not before" time, so a leaked staff token can be revoked

Revision ID: ccc_0004
Revises: ccc_0003
Create Date: 2026-12-01 17:00:00

A `mesh1.` staff token is not stored anywhere, so it cannot be revoked one by one; instead
POST /v1/operators/{id}/tokens/revoke sets the operator's cut-off and ccc_router/auth.py refuses
every token of theirs issued before it (tokens issued afterwards work). One row per operator.
"""

import sqlalchemy as sa
from alembic import op

revision = "ccc_0004"
down_revision = "ccc_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ccc_token_cutoffs",
        sa.Column("operator_id", sa.String(40), primary_key=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ccc_token_cutoffs")
