"""The live progress line: elapsed time, offered and committed rates, latency of the last seconds."""

from __future__ import annotations

import asyncio
import math
import sys
import time
from typing import TextIO

from interpol_offices.loadtest.tracker import Tracker

WIDTH = 24


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.0f}ms"


def line(tracker: Tracker, duration_s: float, phase: str, burst: bool) -> str:
    elapsed = max(0.0, time.time() - tracker.t0)
    done = min(1.0, elapsed / duration_s) if duration_s else 1.0
    bar = "#" * int(done * WIDTH) + "." * (WIDTH - int(done * WIDTH))
    offered, rate, p50, p99 = tracker.recent()
    pending = tracker.expected - tracker.committed
    errors = sum(tracker.errors.values())
    flag = " BURST" if burst else ""
    latency = f"p50 {_ms(p50)} p99 {_ms(p99)}" if tracker.traced else "latency at the end (no spans)"
    return (f"[{bar}] {elapsed:5.0f}/{duration_s:.0f}s {phase}{flag}  offered {offered:.0f}/s  committed {rate:.0f}/s  "
            f"{latency}  pending {pending}  errors {errors}")  # fmt: skip


async def show(tracker: Tracker, duration_s: float, phase: list[str], burst_at: tuple[float, float] | None,
               out: TextIO = sys.stdout) -> None:  # fmt: skip
    """Redraw in place on a terminal (every second), or print a line every 10 s to a log."""
    tty = out.isatty()
    last = 0.0
    try:
        while True:
            await asyncio.sleep(1.0)
            elapsed = time.time() - tracker.t0
            in_burst = burst_at is not None and burst_at[0] <= elapsed < burst_at[1]
            text = line(tracker, duration_s, phase[0], in_burst)
            if tty:
                out.write("\r\x1b[K" + text)
                out.flush()
            elif time.monotonic() - last >= 10:
                out.write(text + "\n")
                out.flush()
                last = time.monotonic()
    finally:
        if tty:
            out.write("\n")
            out.flush()
