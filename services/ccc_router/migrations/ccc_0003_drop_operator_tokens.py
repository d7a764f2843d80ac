"""CCC router: drop the operator tokens table (operators use the mesh's staff tokens)

Revision ID: ccc_0003
Revises: ccc_0002
Create Date: 2026-12-01 16:00:00

The opaque `ccc_` tokens went: an operator now signs in with a `mesh1.` staff token signed with
the CCC's key, and the roster decides what they may do (ccc_router/auth.py). Their hashes are of
no use any more; downgrading restores an empty table.
"""

import sqlalchemy as sa
from alembic import op

revision = "ccc_0003"
down_revision = "ccc_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_ccc_operator_tokens_operator", "ccc_operator_tokens")
    op.drop_table("ccc_operator_tokens")


def downgrade() -> None:
    op.create_table(
        "ccc_operator_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("operator_id", sa.String(40), nullable=False),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ccc_operator_tokens_operator", "ccc_operator_tokens", ["operator_id"])
