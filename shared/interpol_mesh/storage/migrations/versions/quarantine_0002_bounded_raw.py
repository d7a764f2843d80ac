"""quarantine: size and SHA-256 of the whole input; unreadable input kept as a prefix

Revision ID: quarantine_0002
Revises: 0001
Create Date: 2026-12-01 13:00:00

Junk that is not an envelope (`malformed`, `oversized`) was stored whole, so an insider could
fill a recipient's database with it (50 x 1 MB added 47 MB). From now on such input keeps only
its first 16 KiB, with the size and digest of the whole; envelopes are still kept whole as
evidence. Existing rows get their size and digest, and existing junk is cut the same way.
The constants are copied, not imported: a migration must not change when the code does.
"""

import hashlib

import sqlalchemy as sa
from alembic import op


revision = "quarantine_0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PREFIX_BYTES = 16 * 1024
UNREADABLE = ("malformed", "oversized")


def upgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw_size", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("raw_sha256", sa.String(length=64), nullable=True))
    quarantine = sa.table(
        "quarantine",
        sa.column("id", sa.Integer),
        sa.column("reason", sa.String),
        sa.column("raw", sa.LargeBinary),
        sa.column("raw_size", sa.BigInteger),
        sa.column("raw_sha256", sa.String),
    )
    conn = op.get_bind()
    ids = conn.execute(sa.select(quarantine.c.id)).scalars().all()
    for row_id in ids:  # one row in memory at a time: the table may hold large junk
        row = conn.execute(
            sa.select(quarantine.c.id, quarantine.c.reason, quarantine.c.raw).where(quarantine.c.id == row_id)
        ).one()
        raw = bytes(row.raw)
        kept = raw[:PREFIX_BYTES] if row.reason in UNREADABLE else raw
        conn.execute(
            quarantine.update()
            .where(quarantine.c.id == row.id)
            .values(raw=kept, raw_size=len(raw), raw_sha256=hashlib.sha256(raw).hexdigest())
        )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.alter_column("raw_size", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("raw_sha256", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_column("raw_sha256")
        batch_op.drop_column("raw_size")
