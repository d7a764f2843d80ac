"""`interpol-mesh up` as a child process, the way an operator starts it, for the tests that need a whole mesh."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def start_up(data_dir: Path, *args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`up ARGS` in its own session (so a test can Ctrl-C the whole group) on a fresh DATA_DIR with its
    embedded nats-server and SQLite, and the environment a later CLI call on that mesh needs."""
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    env["DATA_DIR"] = str(data_dir)
    proc = subprocess.Popen(
        [sys.executable, "-m", "interpol_offices.cli", "up", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    return proc, env


def until_ready(proc: subprocess.Popen[str], deadline_s: float) -> list[str]:
    """What `up` printed up to its "mesh ready" line (or its end, or the deadline)."""
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("mesh ready"):
            break
    return lines


def stop_up(proc: subprocess.Popen[str], timeout_s: float = 60) -> None:
    """Stop a mesh still running the way a user would (Ctrl-C to the group), then kill it if Ctrl-C
    did not end it in time: the `finally` of every test that starts one, so a failed assertion
    leaves no processes behind."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
