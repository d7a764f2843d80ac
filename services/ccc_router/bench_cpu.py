"""Where the CPU went during one rate of the CCC intake bench: seconds per mesh process, by role.

Read from /proc/<pid>/stat (user + system ticks) before and after each rate, for every process
under `interpol-mesh up` (`StartedMesh.pids()`) and for the bench process itself (the HTTP
client). A process is named by the offices in its `serve` command line (`ccc=18101`), so the
figures say whether the CCC, the sending NCBs, the other offices, nats-server or the client
used the machine's cores: on a shared 2-core machine, the answer to "why is the backlog growing".
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def _cmdline(pid: int) -> list[str]:
    with contextlib.suppress(OSError):
        return [p.decode(errors="replace") for p in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if p]
    return []


def process_names(pids: list[int]) -> dict[int, str]:
    """pid -> `ccc`, `ncb.fr`, `gs+3` (offices served), `nats-server`, or `supervisor`."""
    names: dict[int, str] = {}
    for pid in pids:
        cmd = _cmdline(pid)
        offices = [part.split("=", 1)[0] for part in cmd if "=" in part and not part.startswith("-")]
        if "serve" in cmd and offices:
            names[pid] = offices[0] if len(offices) == 1 else f"{offices[0]}+{len(offices) - 1}"
        elif cmd and "nats-server" in Path(cmd[0]).name:
            names[pid] = "nats-server"
        else:
            names[pid] = "supervisor"
    names[os.getpid()] = "client"
    return names


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """pid -> user + system CPU seconds so far (a process gone meanwhile is left out)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def by_role(names: dict[int, str], before: dict[int, float], after: dict[int, float]) -> dict[str, float]:
    """CPU seconds between two readings: the CCC, the NCBs, the other offices, nats-server, the client."""
    roles: dict[str, float] = {"ccc": 0.0, "ncbs": 0.0, "other offices": 0.0, "nats-server": 0.0, "client": 0.0}
    for pid, name in names.items():
        used = after.get(pid, 0.0) - before.get(pid, 0.0)
        if name in ("ccc", "nats-server", "client"):
            roles[name] += used
        elif name.startswith("ncb."):
            roles["ncbs"] += used
        elif name != "supervisor":
            roles["other offices"] += used
    return {k: round(v, 1) for k, v in roles.items()}
