"""The message ids an HTTP request composed, for its `accept` span (`app/accept_stage.py`).

A request-scoped list in a context variable: `compose` notes each id it signs while an
`accept` stage is open in the same task, and the stage names them on its span. Outside a
request (the inbox's receipts, background tasks) there is no list and nothing is noted.
"""

from __future__ import annotations

import contextvars

accepted_ids: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("accepted_ids", default=None)


def note_accepted(message_id: str) -> None:
    ids = accepted_ids.get()
    if ids is not None:
        ids.append(message_id)
