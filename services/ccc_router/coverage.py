"""Coverage: the hour x language matrix, its gaps, and the rule that refuses a roster with gaps.

A language is covered in an hour when operators who may take cases (the dispatch roles) and
speak it are on shift, at any desk, for the whole hour (two half-hours by two people count).
The duty officer is checked the same way, because escalation needs one at every hour.
A roster is checked over 53 weeks from the current week, so every daylight-saving regime and
both change-over weekends of each desk's zone are inside the window, with dated overrides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from interpol_mesh.directory import OFFICIAL_LANGUAGES, Directory
from interpol_mesh.errors import ConfigError
from interpol_offices.ccc_router.roster import Roster
from interpol_offices.ccc_router.schedule import Duty, desk_zones, expand, primary_desk

HOUR = timedelta(hours=1)
DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
VALIDATION_WEEKS = 53
DUTY_OFFICER = "duty-officer"


@dataclass(frozen=True)
class Cell:
    operators: int
    by_desk: dict[str, int]
    covered: bool


@dataclass(frozen=True)
class HourRow:
    start: datetime
    desk_on_duty: str
    cells: dict[str, Cell]


@dataclass(frozen=True)
class Gap:
    """One uncovered stretch of a weekday (UTC), with the dates on which it occurs."""

    what: str  # a language code or "duty-officer"
    weekday: int
    from_hour: int
    to_hour: int
    desk_on_duty: str
    dates: tuple[date, ...]
    weeks_checked: int

    def describe(self) -> str:
        span = f"{DAY_LABELS[self.weekday]} {self.from_hour:02d}:00-{self.to_hour:02d}:00 UTC"
        subject = f"language {self.what}" if self.what != DUTY_OFFICER else "duty officer"
        if len(self.dates) >= self.weeks_checked:
            when = f"every week (checked {self.weeks_checked} weeks from {self.dates[0].isoformat()})"
        elif len(self.dates) <= 3:
            when = "on " + ", ".join(d.isoformat() for d in self.dates)
        else:
            when = f"in {len(self.dates)} of {self.weeks_checked} weeks, first {self.dates[0].isoformat()}"
        return f"{subject} uncovered {span} ({self.desk_on_duty} on duty) {when}"


@dataclass
class CoverageReport:
    start: datetime
    hours: list[HourRow] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)


class RosterGapError(ConfigError):
    """A roster that would leave some language (or the duty officer) uncovered."""

    def __init__(self, gaps: list[Gap], where: str = "roster") -> None:
        self.gaps = gaps
        lines = "; ".join(g.describe() for g in gaps[:12])
        more = f"; and {len(gaps) - 12} more" if len(gaps) > 12 else ""
        super().__init__(f"{where}: refused, coverage gaps: {lines}{more}")


def week_start(at: datetime) -> datetime:
    """Monday 00:00 UTC of the week containing `at`."""
    day = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _whole_hour(pieces: list[tuple[datetime, datetime]], h0: datetime) -> bool:
    reach = h0
    for s, e in sorted(pieces):
        if s > reach:
            return False
        reach = max(reach, e)
        if reach >= h0 + HOUR:
            return True
    return False


def compute(
    roster: Roster, directory: Directory, start: datetime, hours: int, dispatch_roles: Iterable[str]
) -> CoverageReport:
    """The matrix over `hours` hours from `start` (a whole UTC hour) and the gaps in it."""
    roles = set(dispatch_roles)
    end = start + hours * HOUR
    duties = expand(roster, desk_zones(directory), start, end)
    buckets: dict[int, list[Duty]] = defaultdict(list)
    for duty in duties:
        first = int((duty.start - start) // HOUR)
        last = int((duty.end - start - timedelta(microseconds=1)) // HOUR)
        for i in range(max(first, 0), min(last, hours - 1) + 1):
            buckets[i].append(duty)
    report = CoverageReport(start=start)
    uncovered: dict[tuple[str, int, int], list[date]] = defaultdict(list)
    desk_at: dict[tuple[int, int], str] = {}
    for i in range(hours):
        h0 = start + i * HOUR
        desk = primary_desk(directory.desks, h0).id
        here = buckets.get(i, [])
        cells: dict[str, Cell] = {}
        keys: list[tuple[str, list[Duty]]] = [
            (lang, [d for d in here if lang in d.operator.languages and d.operator.role in roles])
            for lang in OFFICIAL_LANGUAGES
        ]
        keys.append((DUTY_OFFICER, [d for d in here if d.operator.role == DUTY_OFFICER]))
        for key, group in keys:
            by_desk: dict[str, int] = defaultdict(int)
            for _op_id, op_desk in {(d.operator.id, d.desk) for d in group}:
                by_desk[op_desk] += 1
            covered = _whole_hour([(max(d.start, h0), min(d.end, h0 + HOUR)) for d in group], h0)
            cells[key] = Cell(len({d.operator.id for d in group}), dict(sorted(by_desk.items())), covered)
            if not covered:
                uncovered[(key, h0.weekday(), h0.hour)].append(h0.date())
                desk_at[(h0.weekday(), h0.hour)] = desk
        report.hours.append(HourRow(h0, desk, cells))
    report.gaps = _group(uncovered, desk_at, max(1, hours // (7 * 24)))
    return report


def _group(
    uncovered: dict[tuple[str, int, int], list[date]], desk_at: dict[tuple[int, int], str], weeks: int
) -> list[Gap]:
    """Merge consecutive uncovered hours of the same weekday, desk and dates into one gap."""
    gaps: list[Gap] = []
    for (what, weekday, hour), dates in sorted(uncovered.items()):
        desk = desk_at[(weekday, hour)]
        prev = gaps[-1] if gaps else None
        if (
            prev is not None
            and (prev.what, prev.weekday, prev.to_hour, prev.desk_on_duty) == (what, weekday, hour, desk)
            and prev.dates == tuple(dates)
        ):
            gaps[-1] = Gap(what, weekday, prev.from_hour, hour + 1, desk, prev.dates, weeks)
        else:
            gaps.append(Gap(what, weekday, hour, hour + 1, desk, tuple(dates), weeks))
    return gaps


def validate(
    roster: Roster,
    directory: Directory,
    now: datetime,
    dispatch_roles: Iterable[str],
    *,
    weeks: int = VALIDATION_WEEKS,
    where: str = "roster",
) -> None:
    """Refuse (RosterGapError) a roster that leaves any language or the duty officer uncovered."""
    report = compute(roster, directory, week_start(now), weeks * 7 * 24, dispatch_roles)
    if report.gaps:
        raise RosterGapError(report.gaps, where)


def utc_offset_changes(directory: Directory, start: datetime, hours: int) -> list[dict[str, str]]:
    """Daylight-saving changes of the desks' zones inside the window, for the forecast view."""
    changes: list[dict[str, str]] = []
    for desk in directory.desks:
        zone = ZoneInfo(desk.timezone)
        before = start.astimezone(zone).utcoffset()
        for i in range(1, hours + 1):
            at = start + i * HOUR
            offset = at.astimezone(zone).utcoffset()
            if offset != before:
                changes.append(
                    {
                        "desk": desk.id,
                        "timezone": desk.timezone,
                        "at": _exact_change(zone, at - HOUR, at).isoformat(),
                        "from": _fmt(before),
                        "to": _fmt(offset),
                    }
                )
                before = offset
    return changes


def _exact_change(zone: ZoneInfo, lo: datetime, hi: datetime) -> datetime:
    target = hi.astimezone(zone).utcoffset()
    while hi - lo > timedelta(minutes=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return hi.replace(second=0, microsecond=0)


def _fmt(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
