"""Follow the stage records the offices write (`interpol_mesh.stage_trace`: `<pid>.jsonl`) as they grow."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

POLL_S = 0.25


class TraceTail:
    def __init__(self, trace_dir: Path, deliver: Callable[[list[list[Any]]], None]) -> None:
        self.trace_dir = trace_dir
        self.deliver = deliver
        self._offsets: dict[Path, int] = {}
        self._task: asyncio.Task[None] | None = None
        self.lines = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.poll()

    def poll(self) -> None:
        """Hand over every complete line written since the last poll."""
        for path in sorted(self.trace_dir.glob("*.jsonl")):
            offset = self._offsets.get(path, 0)
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
            end = data.rfind(b"\n") + 1
            if end == 0:
                continue
            self._offsets[path] = offset + end
            for line in data[:end].splitlines():
                self.lines += 1
                self.deliver(json.loads(line))

    async def _follow(self) -> None:
        while True:
            self.poll()
            await asyncio.sleep(POLL_S)
