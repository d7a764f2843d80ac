"""Auditing refused API calls without letting a flood of them write the audit log at its rate.

Every refusal is answered (401/403) and logged; the audit log takes them while the office's
budget lasts (a token bucket: BURST at once, RATE per second after). Beyond that they are
counted, and the next audited refusal carries the count, so the log still says how many there
were while an unauthenticated flood cannot turn into one database write per request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)

RATE_PER_S = 5.0
BURST = 20.0


@dataclass
class RefusalBudget:
    tokens: float = BURST
    last: datetime | None = None
    suppressed: int = 0
    first_suppressed_at: datetime | None = None

    def admit(self, now: datetime) -> tuple[bool, str]:
        """(write this refusal to the audit log?, note on what was not written before it)."""
        if self.last is not None:
            self.tokens = min(BURST, self.tokens + max(0.0, (now - self.last).total_seconds()) * RATE_PER_S)
        self.last = now
        if self.tokens < 1.0:
            if self.suppressed == 0:
                self.first_suppressed_at = now
                log.warning("refused API calls beyond the audit budget are counted, not written one by one")
            self.suppressed += 1
            return False, ""
        self.tokens -= 1.0
        note = ""
        if self.suppressed:
            since = self.first_suppressed_at.isoformat() if self.first_suppressed_at else "?"
            note = f"; {self.suppressed} more refusal(s) not written one by one since {since}"
            self.suppressed, self.first_suppressed_at = 0, None
        return True, note
