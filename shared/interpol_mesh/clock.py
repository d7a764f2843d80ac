"""Injected time, so timers, expiry and escalation are tested by moving time, not sleeping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current UTC time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when a test moves it.

    Waiters registered with `wait_until` wake when `advance`/`set` passes their time, so code
    under test can await deadlines without real sleeping.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
        self._changed = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = when
        self._changed.set()
        self._changed = asyncio.Event()

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)


def utc(value: datetime) -> datetime:
    """Normalise a datetime to aware UTC; naive values are taken as UTC (SQLite returns naive)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
