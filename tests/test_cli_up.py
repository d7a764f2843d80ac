"""`interpol-mesh up` as a user runs it: embedded NATS, offices ready, restart on death, Ctrl-C leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from interpol_mesh.directory import load_directory
from interpol_mesh.natsd import free_port_range
from interpol_offices.cli.up import SAMPLE_NCBS, select_offices
from up_process import start_up, stop_up, until_ready

pytestmark = pytest.mark.slow


def test_default_sample_covers_every_region_and_language() -> None:
    directory = load_directory()
    ncbs = [o for o in select_offices(directory, "sample") if o.kind == "ncb"]
    assert len(ncbs) == len(SAMPLE_NCBS)
    assert {o.region for o in ncbs} == {
        "africa",
        "americas",
        "asia-south-pacific",
        "europe",
        "middle-east-north-africa",
    }
    assert {o.language for o in ncbs} == {"en", "ar", "es", "fr"}
    assert len(select_offices(directory, "all")) == 196 + 13


def _descendants(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid,ppid"], capture_output=True, text=True, check=True).stdout.split("\n")[1:]
    children: dict[int, list[int]] = {}
    for line in out:
        if line.strip():
            p, pp = (int(x) for x in line.split())
            children.setdefault(pp, []).append(p)
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as stat:  # zombies are gone for good, only not yet reaped
                if stat.read().split()[2] != "Z":
                    alive.add(pid)
        except (ProcessLookupError, FileNotFoundError):
            pass
    return alive


def test_up_starts_the_mesh_restarts_a_dead_office_and_stops_cleanly(tmp_path: Path) -> None:
    base = free_port_range(15)
    proc, _env = start_up(tmp_path / "var", "--ncbs", "fr,ar", "--base-port", str(base))
    lines: list[str] = []
    try:
        lines += until_ready(proc, 120)
        assert proc.stdout is not None
        assert any(line.startswith("mesh ready: 15 offices") for line in lines), "".join(lines)
        assert any("ncb.ar" in line and "/docs" in line for line in lines)
        with httpx.Client(timeout=5) as client:
            for port in range(base, base + 15):
                assert client.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
            token = (tmp_path / "var" / "tokens" / "gs.token").read_text()
            assert (tmp_path / "var" / "tokens" / "gs.token").stat().st_mode & 0o077 == 0
            assert client.get(f"http://127.0.0.1:{base}/v1/directory").status_code == 401
            directory = client.get(
                f"http://127.0.0.1:{base}/v1/directory", headers={"Authorization": f"Bearer {token}"}
            )
            counts = directory.json()["counts"]
            assert counts == {"ccc": 1, "gs": 1, "lo": 4, "ncb": 196, "rb": 7}
            # The same seeder gives each CCC roster operator a staff token of their own for the console.
            operator = (tmp_path / "var" / "tokens" / "ccc" / "ly.laurent.token").read_text()
            me = client.get(
                f"http://127.0.0.1:{base + 1}/v1/operators/me", headers={"Authorization": f"Bearer {operator}"}
            )
            assert me.status_code == 200 and me.json()["id"] == "ly.laurent", me.text

            # An office that dies is reported and restarted.
            victim = next(p for p in _descendants(proc.pid) if "ncb.fr=" in Path(f"/proc/{p}/cmdline").read_text())
            os.kill(victim, signal.SIGKILL)
            end = time.monotonic() + 60
            while time.monotonic() < end:
                line = proc.stdout.readline()
                lines.append(line)
                if "office ncb.fr restarted" in line:
                    break
            assert any("office ncb.fr died" in line for line in lines), "".join(lines)
            end = time.monotonic() + 60
            while time.monotonic() < end:
                try:
                    if client.get(f"http://127.0.0.1:{base + 13}/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            assert client.get(f"http://127.0.0.1:{base + 13}/readyz").status_code == 200

        everything = _descendants(proc.pid)
        assert len(everything) >= 16  # 15 offices + nats-server
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: SIGINT to the whole foreground group
        assert proc.wait(timeout=60) == 0
        lines.append(proc.stdout.read())
        # asyncio's warning at every close of a TLS connection (the preflight's) is filtered out (logs.py).
        assert "eof_received" not in "".join(lines), "".join(lines)
        end = time.monotonic() + 10
        while _alive(everything) and time.monotonic() < end:
            time.sleep(0.1)
        assert _alive(everything) == set(), "processes left behind"
    finally:
        stop_up(proc)


def test_up_with_regions_starts_nine_servers_and_offices_in_every_region_and_stops_cleanly(tmp_path: Path) -> None:
    """`interpol-mesh up --topology regions` on a fresh data folder: three regional clusters of three
    servers, offices attached to their own region, all ready with security on; Ctrl-C leaves nothing."""
    base = free_port_range(16)
    proc, _env = start_up(
        tmp_path / "var", "--topology", "regions", "--ncbs", "ar,fr,jp", "--base-port", str(base),
        "--offices-per-process", "4",
    )  # fmt: skip
    lines: list[str] = []
    try:
        lines += until_ready(proc, 180)
        text = "".join(lines)
        assert any(line.startswith("mesh ready: 16 offices") for line in lines), text
        urls = {
            r: next(line.split()[1] for line in lines if line.strip().startswith(r))
            for r in ("americas", "emea", "apac")
        }
        assert all(len(u.split(",")) == 3 and u.startswith("tls://") for u in urls.values()), urls
        servers = [p for p in _descendants(proc.pid) if "nats-server" in Path(f"/proc/{p}/cmdline").read_text()]
        assert len(servers) == 9
        offices = [
            p for p in _descendants(proc.pid) if " serve " in Path(f"/proc/{p}/cmdline").read_text().replace("\0", " ")
        ]
        for pid in offices:  # every office process was given its own region's servers
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            nats_url = next(e.decode().split("=", 1)[1] for e in environ if e.startswith(b"NATS_URL="))
            assert nats_url in urls.values()
            assert b"BUS_TOPOLOGY=regions" in environ and b"STREAM_REPLICAS=3" in environ
        with httpx.Client(timeout=5) as client:
            for port in range(base, base + 16):
                ready = client.get(f"http://127.0.0.1:{port}/readyz")
                assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
        everything = _descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=90) == 0
        end = time.monotonic() + 10
        while _alive(everything) and time.monotonic() < end:
            time.sleep(0.1)
        assert _alive(everything) == set(), "processes left behind"
    finally:
        stop_up(proc, 90)


def test_up_refuses_a_bus_topology_that_contradicts_its_own_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NATS_URL"} | {
        "BUS_TOPOLOGY": "regions",
        "DATA_DIR": str(tmp_path),
    }
    run = subprocess.run(
        [sys.executable, "-m", "interpol_offices.cli", "up"], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode != 0
    assert "BUS_TOPOLOGY=regions in the environment contradicts --topology single" in run.stderr + run.stdout
    assert "Traceback" not in run.stderr
