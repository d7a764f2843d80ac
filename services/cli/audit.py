"""`interpol-mesh audit verify --office X`: check an office's audit log from its database alone.

Exit codes: 0 intact, 1 broken (the message names the first bad record); a log that cannot be
checked at all (no database, no audit tables, no key directory) raises MeshError (exit 2).
The checks themselves are the audit package's; this is the command around them (settings,
trust anchor, database, verdict), which is why it lives with the CLI and not in the library.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from interpol_mesh.audit import VerifyReport, head_key_history, read_snapshot, verify_chain
from interpol_mesh.errors import MeshError
from interpol_mesh.messaging.keyring import load_trust_anchor
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import database_url_for, make_engine, redacted


def audit_verify_command(settings: OfficeSettings, office_id: str) -> int:
    """Print the verdict on `office_id`'s audit log; 0 when intact, 1 when broken."""
    office = settings.model_copy(update={"office_id": office_id})
    _require_sqlite_file(office)
    report = asyncio.run(_verify(office))
    print(report.summary())
    return 0 if report.ok else 1


def _require_sqlite_file(settings: OfficeSettings) -> None:
    """Refuse to check a SQLite file that does not exist (connecting would create an empty one)."""
    if settings.database_url is None:
        path = settings.data_dir / "db" / f"{settings.office_id}.sqlite"
    else:
        url = make_url(settings.database_url)
        if url.get_backend_name() != "sqlite" or not url.database:
            return
        path = Path(url.database)
    if not path.exists():
        raise MeshError(f"no database for {settings.office_id}: {path} does not exist")


async def _verify(settings: OfficeSettings) -> VerifyReport:
    anchor = load_trust_anchor(settings.key_dir)
    engine = make_engine(settings)
    try:
        async with read_snapshot(engine) as conn:
            keys = await head_key_history(conn, anchor)
            if keys is None:
                raise MeshError(f"no verifiable key directory in the database of {settings.office_id}")
            return await verify_chain(conn, settings.office_id, keys)
    except sa_exc.DBAPIError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        url = redacted(database_url_for(settings))
        raise MeshError(f"cannot read the audit log of {settings.office_id} in {url}: {reason}") from None
    finally:
        await engine.dispose()
