"""INTERPOL's police databases (SLTD, SMV, wanted persons): records from their owners, searches
online (FIND) and from a national copy (MIND), and every hit reported. docs/police-data.md has the design.

A feature package, not a role: the GS (records, search responder, notice feed, retention), the NCB
(contribution and search API, national copy) and the CCC (hit cases) plug its parts in.
"""

from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")  # Alembic revisions of the police_ tables
DATA_DIR = Path(__file__).with_name("data")
