"""The two ways a benchmark offers load, shared by the mesh's and the raw protocol's drivers so that
both columns of `make bench` are driven exactly alike."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


async def closed_loop(items: Iterable[T], concurrency: int, send: Callable[[T], Awaitable[None]]) -> None:
    """`concurrency` requests always in flight until every item was sent (saturation)."""
    todo = iter(items)

    async def worker() -> None:
        for item in todo:
            await send(item)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def open_loop(rate: float, count: int, send: Callable[[int], Coroutine[Any, Any, None]]) -> None:
    """Request i at start + i/rate, whatever the system under test does (a queue grows if it falls
    behind); returns once every request has been answered."""
    tasks: set[asyncio.Task[None]] = set()
    start = time.time()
    for i in range(count):
        delay = start + i / rate - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(send(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(set(tasks))
