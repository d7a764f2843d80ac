"""outbox: kind and trace_context

Revision ID: outbox_0003
Revises: outbox_0002
Create Date: 2026-12-01 21:45:00

The relay counts what JetStream acknowledged by message kind (`deliveries_published_total`), and
it publishes after the request that sent the message has returned: the row keeps the message's
kind and, when tracing is on, its W3C trace context, so the publish joins the officer's trace
(docs/ARCHITECTURE.md, "Observability"). Both nullable: rows written before this revision
publish as before, counted under kind "unknown", outside any trace.
"""

from alembic import op
import sqlalchemy as sa


revision = "outbox_0003"
down_revision = "outbox_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("trace_context", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("trace_context")
        batch_op.drop_column("kind")
