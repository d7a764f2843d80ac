"""Notices: screening rules, Article 3 screen, distribution, status machine and the notices store.

Shared by the General Secretariat (which screens, reviews and publishes), the NCBs (which
request notices and keep copies of those published to them) and the CCC (which keeps a copy of
every published notice to confirm hit reports). Route modules (`routes`), the copy handler
(`copies`) and the background task (`expiry`) are imported by the roles directly, so that
importing the rules does not pull in FastAPI.
"""

from interpol_mesh.notices.article3 import Article3Flag, normalise, scan
from interpol_mesh.notices.distribution import recipients_for, unknown_countries
from interpol_mesh.notices.rules import RED_MIN_PENALTY_YEARS, RED_MIN_SENTENCE_MONTHS, RULES, TypeRules
from interpol_mesh.notices.screening import Issue, Screening, screen
from interpol_mesh.notices.status import (
    NOTICE_STATUSES,
    RETENTION_YEARS,
    InvalidTransition,
    NoticeStatus,
    check_transition,
    expiry_for,
)

__all__ = [
    "NOTICE_STATUSES",
    "RED_MIN_PENALTY_YEARS",
    "RED_MIN_SENTENCE_MONTHS",
    "RETENTION_YEARS",
    "RULES",
    "Article3Flag",
    "InvalidTransition",
    "Issue",
    "NoticeStatus",
    "Screening",
    "TypeRules",
    "check_transition",
    "expiry_for",
    "normalise",
    "recipients_for",
    "scan",
    "screen",
    "unknown_countries",
]
