"""Stopping an office finishes even when a dependency will not let go."""

from __future__ import annotations

import asyncio

from interpol_mesh.messaging.shutdown import within


async def test_a_shutdown_step_that_swallows_cancellation_is_abandoned_not_awaited_forever() -> None:
    """nats-py's drain() catches CancelledError; `asyncio.wait_for` would then wait without end."""
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue  # what nats-py's drain does

    assert await within(0.2, stubborn(), "stubborn step") is False
    release.set()  # let the abandoned task end so the loop closes cleanly

    async def quick() -> None:
        return None

    assert await within(1.0, quick(), "quick step") is True
