"""audit log: hash-chained record of envelopes and security decisions, its head, signed heads

Revision ID: audit_0002
Revises: 0001
Create Date: 2026-03-09 09:00:00

Written by hand to match shared/interpol_mesh/audit/tables.py (tests/test_audit.py compares them).
"""

from alembic import op
import sqlalchemy as sa


revision = "audit_0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)
_GENESIS = "0" * 64
# table -> statements the database refuses (the head row itself must stay updatable)
_GUARDED = {"audit_log": ("UPDATE", "DELETE"), "audit_head_signatures": ("UPDATE", "DELETE"), "audit_head": ("DELETE",)}


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("message_id", sa.String(80), nullable=True),
        sa.Column("digest", sa.String(64), nullable=True),
        sa.Column("sender", sa.String(80), nullable=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("result", sa.String(80), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_message", "audit_log", ["message_id"])

    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": _GENESIS}])

    op.create_table(
        "audit_head_signatures",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("signed_at", _TS, nullable=False),
        sa.Column("key_id", sa.String(80), nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
    )
    op.create_index("ix_audit_head_signatures_seq", "audit_head_signatures", ["seq"])

    # Defence in depth: the database refuses to change or delete audit records, signed heads and the head row.
    # Someone who can drop these triggers can also rewrite rows; the hash chain and the signed
    # heads are what detect that.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table, verbs in _GUARDED.items():
            op.execute(
                f"CREATE TRIGGER {table}_no_change BEFORE {' OR '.join(verbs)} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
            )
    else:
        for table, verbs in _GUARDED.items():
            for verb in verbs:
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _GUARDED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
    op.drop_table("audit_head_signatures")
    op.drop_table("audit_head")
    op.drop_table("audit_log")
