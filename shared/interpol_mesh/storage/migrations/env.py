"""Alembic environment: always run on a connection handed in by interpol_mesh.storage.migrate."""

from __future__ import annotations

from alembic import context

import interpol_mesh.audit.tables  # noqa: F401 - registers the audit tables on the metadata
from interpol_mesh.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through interpol_mesh.storage.migrate (it passes the office's connection)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
