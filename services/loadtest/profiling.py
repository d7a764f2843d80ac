"""Sample office processes with py-spy while a benchmark runs, and summarise where the time went.

`py-spy record --format raw` writes collapsed stacks (`frame;frame;... count`); the summary gives
the functions with the most samples on top of the stack (self) and anywhere in it (inclusive).
`--gil` samples only the thread holding the GIL: Python CPU time, not waiting.
py-spy is a dev dependency; without it profiling is skipped with a note.
"""

from __future__ import annotations

import collections
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")


@dataclass
class Profiler:
    out_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)

    @staticmethod
    def available() -> str | None:
        beside = Path(sys.executable).with_name("py-spy")
        return str(beside) if beside.exists() else shutil.which("py-spy")

    def start(self, targets: dict[str, int], rate: int = 250) -> bool:
        exe = self.available()
        if exe is None:
            return False
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in targets.items():
            path = self.out_dir / f"{name}.collapsed.txt"
            self.files[name] = path
            self.processes.append(subprocess.Popen(
                [exe, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw", "--gil", "--nonblocking", "-o", str(path)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
        return True

    def stop(self, merged: bool = False) -> dict[str, Any]:
        """Summaries per target, or one over all targets (`merged`)."""
        for proc in self.processes:
            proc.send_signal(signal.SIGINT)
        for proc in self.processes:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        present = {name: path for name, path in self.files.items() if path.exists()}
        if merged:
            return {"all": summarise(list(present.values()))} if present else {}
        return {name: summarise(path) for name, path in present.items()}


def _label(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    file = m.group("file")
    short = "/".join(file.split("/")[-2:])
    return f"{m.group('func')} ({short})"


def summarise(path: Path | list[Path], top: int = 15) -> dict[str, Any]:
    """Self and inclusive shares of samples, over one file or several processes together."""
    paths = path if isinstance(path, list) else [path]
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    lines = [line for p in paths for line in p.read_text(errors="replace").splitlines()]
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [
            _label(f) for f in stack.split(";") if f and not f.startswith("process ") and not f.startswith("thread ")
        ]
        if not frames:
            continue
        total += n
        self_time[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n

    def pct(n: int) -> float:
        return round(100 * n / total, 1) if total else 0.0

    return {
        "samples": total,
        "files": [str(p) for p in paths],
        "self_top": [(f, pct(n)) for f, n in self_time.most_common(top)],
        "inclusive_top": [(f, pct(n)) for f, n in inclusive.most_common(top * 3)],
    }
