"""Follow the span files the offices export (`OTEL_TRACES_EXPORTER=file`: `TRACE_DIR/<pid>.jsonl`) as they grow.

One JSON object per line per span (`spans.py` says which fields the load test reads). Only
complete lines are read: the exporter may be halfway through one when the tail polls. A line that
is not JSON (a process killed mid-write) is counted in `bad` and skipped, not fatal to the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

POLL_S = 0.25


class TraceTail:
    def __init__(self, trace_dir: Path, deliver: Callable[[list[dict[str, Any]]], None]) -> None:
        self.trace_dir = trace_dir
        self.deliver = deliver
        self._offsets: dict[Path, int] = {}
        self._task: asyncio.Task[None] | None = None
        self.lines = 0
        self.bad = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.poll()

    def poll(self) -> None:
        """Hand over the spans of every complete line written since the last poll, one list per file."""
        for path in sorted(self.trace_dir.glob("*.jsonl")):
            offset = self._offsets.get(path, 0)
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
            end = data.rfind(b"\n") + 1
            if end == 0:
                continue
            self._offsets[path] = offset + end
            spans: list[dict[str, Any]] = []
            for line in data[:end].splitlines():
                if not line.strip():
                    continue
                self.lines += 1
                try:
                    span = json.loads(line)
                except ValueError:
                    self.bad += 1
                    continue
                if isinstance(span, dict):
                    spans.append(span)
                else:
                    self.bad += 1
            if spans:
                self.deliver(spans)

    async def _follow(self) -> None:
        while True:
            self.poll()
            await asyncio.sleep(POLL_S)
