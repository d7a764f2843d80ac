"""Related cases: reports about the same notice, person or document join one open case.

Each intake names its subjects (`notice:<id>` from a hit report or a message's references,
`document:<country>:<number>` and `vehicle:<id>` from the identifiers in its text, `person:<...>`
from the notice's subject). If an open case shares a subject, the envelope is *linked* to it
(`ccc_case_links`, unique per message id) with a `linked` event that carries what it said,
instead of opening another case: three hit reports on one notice are one case with three
reports on its timeline. A linked report of higher priority raises the case's priority. Nothing
is lost: the envelope stays in the inbox and the link row names it. A resolved case is not
reopened; the next report opens a new case that names the earlier one.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_offices.ccc_router.cases import Case


async def open_case_about(conn: AsyncConnection, subjects: tuple[str, ...]) -> Case | None:
    """The oldest open case sharing any of these subjects, if there is one."""
    raise NotImplementedError


async def remember_subjects(conn: AsyncConnection, case_id: str, subjects: tuple[str, ...]) -> None:
    raise NotImplementedError
