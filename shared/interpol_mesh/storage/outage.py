"""When the database is away: the one predicate and the one error every office part uses for it."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from interpol_mesh.errors import DatabaseUnavailable
from interpol_mesh.storage.engine import redacted

# What a driver raises when it cannot use the database at all (refused, reset, timed out, rejected).
DATABASE_ERRORS: tuple[type[BaseException], ...] = (sa_exc.DBAPIError, OSError, TimeoutError)

# SQLSTATE classes that mean "try again later": connection (08), resources (53), operator
# intervention such as shutdown (57), transaction rollback such as deadlock (40), read-only (25006).
_TRANSIENT_SQLSTATES = ("08", "53", "57", "40")


def database_away(exc: BaseException) -> bool:
    """Errors that mean 'the database is away, try again', not 'this message is bad'."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        code = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
        if code.startswith(_TRANSIENT_SQLSTATES) or code == "25006":
            return True
    return isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, OSError, TimeoutError, ConnectionError))


def database_unavailable(url: str, exc: BaseException) -> DatabaseUnavailable:
    """The one error for `exc` on the database at `url`: password hidden, the driver's first line as reason."""
    text = str(getattr(exc, "orig", None) or exc)
    reason = text.splitlines()[0] if text.strip() else type(exc).__name__
    return DatabaseUnavailable(redacted(url), reason)
