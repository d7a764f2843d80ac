"""Police-data tables (SQLAlchemy Core), in their own MetaData: the GS's database and every NCB's.

The national copy is these same tables in an NCB's database, holding only what it may see, so one
search (`store.search`) serves both. `migrations/` creates exactly these (tests/test_migrations.py
compares them on both backends).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
_TS = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _common() -> list[sa.Column[object]]:
    """What every record carries, whatever its database (docs/police-data.md, "What is held")."""
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


documents = sa.Table(
    "police_documents",
    metadata,
    *_common(),
    sa.Column("number_key", sa.String(30), nullable=False, comment="identifiers.document_key of the number"),
    sa.Column("number", sa.String(30), nullable=False, comment="as the owner wrote it"),
    sa.Column("issuing_country", sa.String(2), nullable=False),
    sa.Column("document_type", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("issued_on", sa.Date(), nullable=True),
    sa.Column("expires_on", sa.Date(), nullable=True),
    sa.Column("reported_on", sa.Date(), nullable=True),
    sa.Index("ix_police_documents_number", "number_key", "issuing_country"),
    sa.Index("ix_police_documents_retention", "retention_until"),
)

vehicles = sa.Table(
    "police_vehicles",
    metadata,
    *_common(),
    sa.Column("vin_key", sa.String(30), nullable=True),
    sa.Column("plate_key", sa.String(20), nullable=True),
    sa.Column("plate_country", sa.String(2), nullable=True),
    sa.Column("details", sa.JSON(), nullable=False, comment="the Vehicle as the owner sent it"),
    sa.Index("ix_police_vehicles_vin", "vin_key"),
    sa.Index("ix_police_vehicles_plate", "plate_key", "plate_country"),
    sa.Index("ix_police_vehicles_retention", "retention_until"),
)

persons = sa.Table(
    "police_persons",
    metadata,
    *_common(),
    sa.Column(
        "details", sa.JSON(), nullable=False, comment="the WantedPerson as the owner sent it, names in their scripts"
    ),
    sa.Column("date_of_birth", sa.Date(), nullable=True),
    sa.Column("notice_id", sa.String(36), nullable=True),
    sa.Index("ix_police_persons_notice", "notice_id"),
    sa.Index("ix_police_persons_retention", "retention_until"),
)

person_keys = sa.Table(
    "police_person_keys",
    metadata,
    sa.Column("key", sa.String(40), primary_key=True, comment="names.record_keys"),
    sa.Column("record_id", sa.String(200), primary_key=True),
    sa.Index("ix_police_person_keys_record", "record_id"),
)

visibility = sa.Table(
    "police_record_visibility",
    metadata,
    sa.Column("record_id", sa.String(200), primary_key=True),
    sa.Column("country", sa.String(2), primary_key=True),
)

revisions = sa.Table(
    "police_revisions",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, comment="one row: id 1"),
    sa.Column("last_revision", _ID, nullable=False),
)

# National copy only: a deleted record's last revision, so a late upsert cannot bring it back.
tombstones = sa.Table(
    "police_tombstones",
    metadata,
    sa.Column("record_id", sa.String(200), primary_key=True),
    sa.Column("revision", _ID, nullable=False),
    sa.Column("deleted_at", _TS, nullable=False),
)

copy_state = sa.Table(
    "police_copy_state",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, comment="one row: id 1"),
    sa.Column("last_revision", _ID, nullable=False),
    sa.Column("changed_at", _TS, nullable=True, comment="the GS's time of the newest change applied"),
    sa.Column("applied_at", _TS, nullable=True),
)

TABLES_BY_DATABASE = {"sltd": documents, "smv": vehicles, "persons": persons}
