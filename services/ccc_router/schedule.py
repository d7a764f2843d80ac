"""Who is on shift when: weekly local-time shifts plus overrides, expanded into UTC intervals.

One expansion serves both the coverage check and dispatch, so "the roster says X is on shift"
means the same thing in both. Local times are converted with the desk's IANA zone on each
date, which is where daylight-saving changes enter. A local time that does not exist (the
spring-forward hour) is read with the offset in force before the change.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from interpol_mesh.directory import Desk, Directory
from interpol_offices.ccc_router.roster import Operator, Roster, Shift


@dataclass(frozen=True)
class Duty:
    """One operator on shift at one desk over [start, end) UTC."""

    operator: Operator
    desk: str
    start: datetime
    end: datetime
    source: str  # "shift" or "cover: <reason>"

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


def desk_zones(directory: Directory) -> dict[str, ZoneInfo]:
    return {d.id: ZoneInfo(d.timezone) for d in directory.desks}


def primary_desk(desks: Sequence[Desk], at: datetime) -> Desk:
    """The follow-the-sun owner at `at`: the desk whose UTC shift contains that hour."""
    hour = at.astimezone(UTC).hour
    for desk in desks:
        if desk.on_duty_at_hour(hour):
            return desk
    raise LookupError(f"no CCC desk on duty at {hour:02d}:00 UTC")  # the directory loader forbids this


def handover_hours(desks: Sequence[Desk]) -> list[int]:
    return sorted({d.shift_start_utc.hour for d in desks})


def last_handover(desks: Sequence[Desk], at: datetime) -> datetime:
    """The most recent desk handover at or before `at`."""
    at = at.astimezone(UTC)
    hours = handover_hours(desks)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    for offset in (0, -1):
        base = day + timedelta(days=offset)
        for hour in reversed(hours):
            candidate = base + timedelta(hours=hour)
            if candidate <= at:
                return candidate
    raise LookupError("no handover found")  # unreachable with at least one desk


def next_handover(desks: Sequence[Desk], after: datetime, nth: int = 1) -> datetime:
    """The nth desk handover strictly after `after` (1 = the next one)."""
    hours = handover_hours(desks)
    day = after.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    found: list[datetime] = []
    for offset in range(nth + 2):
        for hour in hours:
            candidate = day + timedelta(days=offset, hours=hour)
            if candidate > after:
                found.append(candidate)
    return found[nth - 1]


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime:
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    return naive.replace(tzinfo=zone).astimezone(UTC)


def shift_intervals(shift: Shift, zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """UTC intervals of one weekly shift that overlap [start, end)."""
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    days = shift.weekdays
    out: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        if day.weekday() in days:
            s = _local(day, shift.start_minute, zone)
            end_day = day + timedelta(days=1) if shift.overnight else day
            e = _local(end_day, shift.end_minute, zone)
            if e > start and s < end and e > s:
                out.append((max(s, start), min(e, end)))
        day += timedelta(days=1)
    return out


def _subtract(
    intervals: list[tuple[datetime, datetime]], holes: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    for h0, h1 in holes:
        kept: list[tuple[datetime, datetime]] = []
        for s, e in intervals:
            if e <= h0 or s >= h1:
                kept.append((s, e))
                continue
            if s < h0:
                kept.append((s, h0))
            if e > h1:
                kept.append((h1, e))
        intervals = kept
    return intervals


def expand(roster: Roster, zones: dict[str, ZoneInfo], start: datetime, end: datetime) -> list[Duty]:
    """Every duty in [start, end): weekly shifts minus leave, plus cover; in roster order."""
    leave: dict[str, list[tuple[datetime, datetime]]] = {}
    cover: dict[str, list[tuple[datetime, datetime, str, str]]] = {}
    for ov in roster.overrides:
        s, e = max(ov.start.astimezone(UTC), start), min(ov.end.astimezone(UTC), end)
        if e <= s:
            continue
        if ov.kind == "leave":
            leave.setdefault(ov.operator, []).append((s, e))
        else:
            cover.setdefault(ov.operator, []).append((s, e, ov.desk or "", ov.reason))
    duties: list[Duty] = []
    for op in roster.operators:
        zone = zones[op.desk]
        pieces: list[tuple[datetime, datetime]] = []
        for shift in op.shifts:
            pieces.extend(shift_intervals(shift, zone, start, end))
        for s, e in _subtract(sorted(pieces), leave.get(op.id, [])):
            duties.append(Duty(op, op.desk, s, e, "shift"))
        for s, e, desk, reason in cover.get(op.id, []):
            duties.append(Duty(op, desk or op.desk, s, e, f"cover: {reason}"))
    return duties


class Schedule:
    """Duties of a time window, indexed for "who is on shift at t" lookups during dispatch."""

    def __init__(self, roster: Roster, zones: dict[str, ZoneInfo], start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self.order = roster.order()
        self.duties = sorted(expand(roster, zones, start, end), key=lambda d: d.start)
        self._starts = [d.start for d in self.duties]
        self._longest = max((d.end - d.start for d in self.duties), default=timedelta(0))

    def on_shift(self, at: datetime) -> list[Duty]:
        """Duties covering `at`, in roster order (one per operator: cover wins over a shift)."""
        if not self.start <= at < self.end:
            raise ValueError(f"{at.isoformat()} is outside this schedule window")
        hi = bisect.bisect_right(self._starts, at)
        lo = bisect.bisect_left(self._starts, at - self._longest)
        found: dict[str, Duty] = {}
        for duty in self.duties[lo:hi]:
            if duty.covers(at) and (duty.operator.id not in found or duty.source != "shift"):
                found[duty.operator.id] = duty
        return sorted(found.values(), key=lambda d: self.order[d.operator.id])


def day_window(at: datetime) -> tuple[datetime, datetime]:
    """The cache window used for `at`: its UTC day, padded so overnight shifts are complete."""
    day = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=1), day + timedelta(days=2)
