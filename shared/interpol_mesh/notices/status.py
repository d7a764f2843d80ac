"""The notice status machine and the retention period that makes published notices expire.

At the General Secretariat (the authoritative record):

    pending-review -> published | refused        (a reviewer's decision)
    published      -> cancelled                  (GS cancels; NCBs are told)
    published      -> expired                    (expires_at passed; each office applies it itself)
    (none)         -> refused                    (automatic: required fields missing, no Article 3 flag)

At an NCB, its own request starts as `submitted` and follows the GS decision; copies of other
offices' notices start as `published` (or `cancelled` if the publication was never seen).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

NoticeStatus = Literal["submitted", "pending-review", "refused", "published", "cancelled", "expired"]
NOTICE_STATUSES: tuple[NoticeStatus, ...] = (
    "submitted",
    "pending-review",
    "refused",
    "published",
    "cancelled",
    "expired",
)

TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"published", "refused", "cancelled"}),
    "pending-review": frozenset({"published", "refused"}),
    "published": frozenset({"cancelled", "expired"}),
    "refused": frozenset(),
    "cancelled": frozenset(),
    "expired": frozenset(),
}

# RPD retention (DOMAIN.md §2 "Retention"): nominal data, Red Notices included, is kept 5 years
# and not renewed automatically; renewal (Art. 50) would be an `updated` event with a new date.
RETENTION_YEARS = 5


class InvalidTransition(Exception):
    """The notice is not in a status from which the requested change is allowed."""

    def __init__(self, notice_id: str, current: str, wanted: str) -> None:
        super().__init__(f"notice {notice_id} is {current}; it cannot become {wanted}")
        self.current = current
        self.wanted = wanted


def check_transition(notice_id: str, current: str, wanted: str) -> None:
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(notice_id, current, wanted)


def expiry_for(published_at: datetime) -> datetime:
    """Same day and time RETENTION_YEARS later; 29 February becomes 28 February."""
    year = published_at.year + RETENTION_YEARS
    try:
        return published_at.replace(year=year)
    except ValueError:
        return published_at.replace(year=year, day=28)
