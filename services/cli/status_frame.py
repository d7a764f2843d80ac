"""One frame of `interpol-mesh status`: every office's reading and figures, and the mesh's totals.

Kept apart from the drawing so that the terminal view and `--json` show exactly the same figures,
and so that both can be tested on hand-made readings without a mesh.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from interpol_offices.cli.status_fetch import STATUSES, Reading, Status
from interpol_offices.cli.status_figures import Figures, figures


@dataclass(frozen=True)
class OfficeView:
    reading: Reading
    figures: Figures | None  # None when /metrics could not be read (`reading.metrics_error` says why)

    @property
    def problem(self) -> bool:
        return self.reading.status != "ready"


@dataclass(frozen=True)
class Totals:
    """The mesh's sums over the offices whose metrics were read (`offices_measured` of them)."""

    offices_measured: int
    sent_per_s: float | None
    received_per_s: float | None
    quarantined_per_s: float | None
    outbox_pending: float | None
    outbox_oldest_age_s: float | None  # the worst office's
    consumer_pending: float | None
    quarantine_rows: float | None
    ccc_open_cases: float | None
    ccc_open_cases_by_priority: dict[str, float] | None


def _sum(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _max(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


@dataclass(frozen=True)
class Frame:
    at: datetime
    offices: list[OfficeView]

    def counts(self) -> dict[Status, int]:
        seen = Counter(v.reading.status for v in self.offices)
        return {s: seen.get(s, 0) for s in STATUSES}

    @property
    def all_ready(self) -> bool:
        return all(not v.problem for v in self.offices)

    def totals(self) -> Totals:
        f = [v.figures for v in self.offices if v.figures is not None]
        by_priority: dict[str, float] = {}
        for fig in f:
            for priority, n in (fig.ccc_open_cases_by_priority or {}).items():
                by_priority[priority] = by_priority.get(priority, 0.0) + n
        return Totals(
            offices_measured=len(f),
            sent_per_s=_sum([x.sent_per_s for x in f]),
            received_per_s=_sum([x.received_per_s for x in f]),
            quarantined_per_s=_sum([x.quarantined_per_s for x in f]),
            outbox_pending=_sum([x.outbox_pending for x in f]),
            outbox_oldest_age_s=_max([x.outbox_oldest_age_s for x in f]),
            consumer_pending=_sum([x.consumer_pending for x in f]),
            quarantine_rows=_sum([x.quarantine_rows for x in f]),
            ccc_open_cases=_sum([x.ccc_open_cases for x in f]),
            ccc_open_cases_by_priority=dict(sorted(by_priority.items())) if by_priority else None,
        )

    def problems_first(self) -> list[OfficeView]:
        """Worst status first; then, within a status, the largest backlog, then the office id."""
        rank = {s: n for n, s in enumerate(STATUSES)}
        return sorted(
            self.offices,
            key=lambda v: (rank[v.reading.status], -(v.figures.backlog if v.figures else 0.0), v.reading.office.id),
        )


def make_frame(at: datetime, now: list[Reading], before: dict[str, Reading] | None) -> Frame:
    """The frame of the readings `now`; rates against the previous reading of the same office."""
    views = []
    for reading in now:
        if reading.series is None:
            views.append(OfficeView(reading, None))
            continue
        prev = (before or {}).get(reading.office.id)
        prev_series = prev.series if prev is not None else None
        seconds = reading.at - prev.at if prev is not None else 0.0
        views.append(
            OfficeView(reading, figures(reading.series, prev_series, seconds, ccc=reading.office.kind == "ccc"))
        )
    return Frame(at=at, offices=views)


def to_json(frame: Frame) -> dict[str, Any]:
    """The machine-readable frame (`--once --json`): every office, null figures with the reason."""
    return {
        "at": frame.at.isoformat(),
        "all_ready": frame.all_ready,
        "counts": frame.counts(),
        "totals": asdict(frame.totals()),
        "offices": [
            {
                "id": v.reading.office.id,
                "kind": v.reading.office.kind,
                "url": v.reading.office.url,
                "status": v.reading.status,
                "reasons": list(v.reading.reasons),
                "metrics": asdict(v.figures) if v.figures is not None else None,
                "metrics_error": v.reading.metrics_error,
            }
            for v in frame.offices
        ],
    }
