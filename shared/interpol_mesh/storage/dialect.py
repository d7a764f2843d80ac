"""The one place where SQLite and PostgreSQL differ for us: insert-if-absent."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def insert_ignoring_duplicates(table: sa.Table, dialect_name: str) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING on either backend (idempotent redelivery)."""
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
