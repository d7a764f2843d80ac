"""Who may read which notice through the API, and how much of it: one rule at the GS and at every NCB.

The route dependency only says who is calling; this says what that caller is entitled to see,
record by record. Distribution restricts routing (an excluded NCB never receives the bytes), so
an office's API must not hand the same bytes to that NCB either.

- The office's own staff see everything their office holds, except that at the GS the screening,
  the reviewer and the decision reason (the GS's deliberation) are for its reviewers and admins.
- Another office (its office token) sees a notice only if it requested it, or if the notice was
  published (and may since have been cancelled or expired) and the office is among the
  distribution's permitted recipients. It sees the notice as it was sent, never how it was decided
  or what other offices did with it (hits, reasons, the messages that carried it).

A notice the caller may not read is answered exactly like one that does not exist (404 with the
same text) and is left out of lists before paging, so neither a cursor nor a short page hints at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import sqlalchemy as sa

from interpol_mesh.auth.deps import ADMIN, REVIEWER
from interpol_mesh.auth.tokens import Principal
from interpol_mesh.directory import Directory, Office
from interpol_mesh.messages import Distribution
from interpol_mesh.notices.distribution import receives
from interpol_mesh.notices.status import NOTICE_STATUSES
from interpol_mesh.notices.views import NoticeDetail
from interpol_mesh.storage import tables

# Statuses a permitted recipient has legitimately seen: the publication, and what followed it.
SHARED_STATUSES = frozenset({"published", "cancelled", "expired"})
# History entries another office may see: the notice's own lifecycle, not the holder's work on it (hits).
LIFECYCLE_ACTIONS = frozenset(NOTICE_STATUSES) | {"received", "updated"}
REVIEW_ROLES = frozenset({REVIEWER, ADMIN})


class View(Enum):
    FULL = "full"  # the GS's reviewers and admins; any other office's own staff
    HELD = "held"  # the GS's other staff: the record without the review
    SHARED = "shared"  # another office: the notice as sent to it


@dataclass(frozen=True)
class Reader:
    """The office on whose behalf a notice is read (the caller's), and how much of a notice it gets."""

    office: str
    view: View
    caller: Office | None = None  # the directory entry of another office; None for the own office

    def may_read(self, row: Any) -> bool:
        if self.view is not View.SHARED or row.requesting_office == self.office:
            return True
        if row.status not in SHARED_STATUSES or self.caller is None:
            return False
        return receives(self.caller, Distribution.model_validate(row.distribution), row.requesting_office)

    def where(self) -> sa.ColumnElement[bool] | None:
        """A SQL prefilter admitting a superset of `may_read` (the distribution is checked in Python)."""
        if self.view is not View.SHARED:
            return None
        n = tables.notices
        mine = n.c.requesting_office == self.office
        if self.caller is None or self.caller.kind != "ncb":
            return mine
        return sa.or_(mine, n.c.status.in_(sorted(SHARED_STATUSES)))

    def shown(self, notice: NoticeDetail) -> NoticeDetail:
        """The notice with what this reader may not see removed."""
        if self.view is View.FULL:
            return notice
        hidden = dict.fromkeys(("actor", "reason") if self.view is View.HELD else ("actor", "reason", "message_id"))
        history = [
            entry.model_copy(update=hidden)
            for entry in notice.history
            if self.view is View.HELD or entry.action in LIFECYCLE_ACTIONS
        ]
        return notice.model_copy(
            update={"screening": None, "reviewer": None, "decision_reason": None, "history": history}
        )


def reader(principal: Principal, here: Office, directory: Directory) -> Reader:
    """Staff tokens are valid only where issued, so a token issued elsewhere is always another office's."""
    if principal.issuer != here.id:
        return Reader(principal.issuer, View.SHARED, directory.offices.get(principal.issuer))
    if here.kind == "gs" and not principal.has_any(REVIEW_ROLES):
        return Reader(here.id, View.HELD)
    return Reader(here.id, View.FULL)
