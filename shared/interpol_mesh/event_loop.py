"""The event loop every office process runs on: uvloop where it is installed.

`asyncio.run` gives the standard library's loop, whatever uvicorn's `loop="auto"` says: uvicorn only
picks uvloop when it creates the loop itself, and `interpol-mesh serve` creates it (several offices
share one process and one loop). uvloop is what uvicorn picks when it makes the loop, and the
benchmarks' baselines run on it too, so their ratios compare like with like; on the 2-core machine
its gain was within the noise (docs/performance.md). Without it (a platform it does not build on),
the standard loop runs the same code. `EVENT_LOOP=asyncio` forces the standard loop (to compare, or
to rule uvloop out while chasing a fault).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from interpol_mesh.errors import ConfigError

T = TypeVar("T")
CHOICES = ("uvloop", "asyncio")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory, or None for the standard loop (EVENT_LOOP=asyncio, or no uvloop)."""
    choice = os.environ.get("EVENT_LOOP", "").strip().lower() or "uvloop"
    if choice not in CHOICES:
        raise ConfigError(f"EVENT_LOOP={choice!r}: use uvloop (the default) or asyncio")
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on uvloop when available."""
    try:
        factory = loop_factory()
    except ConfigError:
        main.close()  # never awaited: closed, so the one error is all the operator sees
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
