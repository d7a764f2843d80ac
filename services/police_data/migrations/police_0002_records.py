"""Police data: SLTD documents, SMV vehicles, wanted persons with their name keys, visibility, revisions, copy state

Revision ID: police_0002
Revises: 0001
Create Date: 2026-12-02 08:10:00

Written by hand to match services/police_data/tables.py (tests/test_migrations.py compares them).
GS and NCB databases run it (OfficeRole.migrations); the NCB's tables are its national copy.
"""

import sqlalchemy as sa
from alembic import op

revision = "police_0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def _common() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("record_id", sa.String(200), primary_key=True, comment="<database>/<owner>/<record_ref>"),
        sa.Column("owner_office", sa.String(40), nullable=False),
        sa.Column("record_ref", sa.String(64), nullable=False),
        sa.Column("instructions", sa.String(500), nullable=True),
        sa.Column("restricted", sa.Boolean(), nullable=False, comment="visible only to police_record_visibility"),
        sa.Column("source_message_id", sa.String(36), nullable=True, comment="the owner's message that set it"),
        sa.Column("revision", _ID, nullable=False, comment="the GS's change counter when it was set"),
        sa.Column("retention_until", _TS, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "police_documents",
        *_common(),
        sa.Column("number_key", sa.String(30), nullable=False, comment="identifiers.document_key of the number"),
        sa.Column("number", sa.String(30), nullable=False, comment="as the owner wrote it"),
        sa.Column("issuing_country", sa.String(2), nullable=False),
        sa.Column("document_type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("reported_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_police_documents_number", "police_documents", ["number_key", "issuing_country"])
    op.create_index("ix_police_documents_retention", "police_documents", ["retention_until"])
    op.create_table(
        "police_vehicles",
        *_common(),
        sa.Column("vin_key", sa.String(30), nullable=True),
        sa.Column("plate_key", sa.String(20), nullable=True),
        sa.Column("plate_country", sa.String(2), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False, comment="the Vehicle as the owner sent it"),
    )
    op.create_index("ix_police_vehicles_vin", "police_vehicles", ["vin_key"])
    op.create_index("ix_police_vehicles_plate", "police_vehicles", ["plate_key", "plate_country"])
    op.create_index("ix_police_vehicles_retention", "police_vehicles", ["retention_until"])
    op.create_table(
        "police_persons",
        *_common(),
        sa.Column(
            "details",
            sa.JSON(),
            nullable=False,
            comment="the WantedPerson as the owner sent it, names in their scripts",
        ),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("notice_id", sa.String(36), nullable=True),
    )
    op.create_index("ix_police_persons_notice", "police_persons", ["notice_id"])
    op.create_index("ix_police_persons_retention", "police_persons", ["retention_until"])
    op.create_table(
        "police_person_keys",
        sa.Column("key", sa.String(40), primary_key=True, comment="names.record_keys"),
        sa.Column("record_id", sa.String(200), primary_key=True),
    )
    op.create_index("ix_police_person_keys_record", "police_person_keys", ["record_id"])
    op.create_table(
        "police_record_visibility",
        sa.Column("record_id", sa.String(200), primary_key=True),
        sa.Column("country", sa.String(2), primary_key=True),
    )
    op.create_table(
        "police_revisions",
        sa.Column("id", sa.Integer(), primary_key=True, comment="one row: id 1"),
        sa.Column("last_revision", _ID, nullable=False),
    )
    op.create_table(
        "police_tombstones",
        sa.Column("record_id", sa.String(200), primary_key=True),
        sa.Column("revision", _ID, nullable=False),
        sa.Column("deleted_at", _TS, nullable=False),
    )
    op.create_table(
        "police_copy_state",
        sa.Column("id", sa.Integer(), primary_key=True, comment="one row: id 1"),
        sa.Column("last_revision", _ID, nullable=False),
        sa.Column("changed_at", _TS, nullable=True, comment="the GS's time of the newest change applied"),
        sa.Column("applied_at", _TS, nullable=True),
    )


def downgrade() -> None:
    for table in (
        "police_copy_state", "police_tombstones", "police_revisions", "police_record_visibility",
        "police_person_keys", "police_persons", "police_vehicles", "police_documents",
    ):  # fmt: skip
        op.drop_table(table)
