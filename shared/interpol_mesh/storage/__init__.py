"""Storage: per-office engine, tables and migrations; the same code on SQLite and PostgreSQL."""

from interpol_mesh.storage import tables
from interpol_mesh.storage.dialect import insert_ignoring_duplicates
from interpol_mesh.storage.engine import database_url_for, drop_schemas, make_engine, redacted, schema_for
from interpol_mesh.storage.migrate import migrate
from interpol_mesh.storage.outage import DATABASE_ERRORS, database_away, database_unavailable
from interpol_mesh.storage.writing import writing

__all__ = [
    "DATABASE_ERRORS",
    "database_away",
    "database_unavailable",
    "database_url_for",
    "drop_schemas",
    "insert_ignoring_duplicates",
    "make_engine",
    "migrate",
    "redacted",
    "schema_for",
    "tables",
    "writing",
]
