"""The mesh under test: start one with `interpol-mesh up` exporting its spans, or attach to a running one.

A started mesh is exactly `interpol-mesh up --ncbs N --base-port P --offices-per-process K` (so it
has whatever `up` provides: embedded NATS with TLS and per-office credentials, keys, supervision),
run as a child process with `OTEL_TRACES_EXPORTER=file` and `TRACE_DIR` set, so that every office
process writes the spans of its messages to `TRACE_DIR/<pid>.jsonl` (the observability design,
`docs/ARCHITECTURE.md`), which the load test follows (`traces.py`, `spans.py`). Its data directory
is emptied first (databases, NATS store, traces; keys are kept), so every run starts from a clean
mesh. Stopping it is `up`'s own SIGTERM path.

An attached mesh (`--attach URL`: the GS base URL of a mesh started with `interpol-mesh up`) is
driven as it is: ports from DATA_DIR/mesh.json when it describes that mesh, else `up`'s
single-topology order from that port (`cli/mesh_layout.py`, shared with `status`); the databases are read from
`DATA_DIR` / `DATABASE_URL` as the offices were given them. Without its spans, per-stage timings
are not available and latency ends at the recipient's fetch (`inbox.received_at`).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx
import sqlalchemy as sa

from interpol_mesh.directory import GS_ID, Directory, Office
from interpol_mesh.errors import ConfigError, DependencyUnavailable
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import drop_schemas, make_engine
from interpol_offices.cli.mesh_layout import attach_layout
from interpol_offices.cli.up import select_offices
from interpol_offices.loadtest.credentials import staff_tokens
from interpol_offices.loadtest.httpclient import HttpPool


@dataclass
class MeshView:
    """What the load test needs to know about the mesh: offices, ports, where their data is."""

    offices: list[Office]
    ports: dict[str, int]
    settings: OfficeSettings
    trace_dir: Path | None
    processes: int = 0
    started_in_s: float = 0.0

    @property
    def traced(self) -> bool:
        return self.trace_dir is not None

    def ncbs(self) -> list[Office]:
        return [o for o in self.offices if o.kind == "ncb"]

    def office_settings(self, office_id: str) -> OfficeSettings:
        return self.settings.model_copy(update={"office_id": office_id})

    def http_pool(self, per_port: int = 32) -> HttpPool:
        """A client for the offices' APIs, carrying each office's staff token (see `credentials`)."""
        pool = HttpPool(host=self.settings.host, per_port=per_port)
        tokens = staff_tokens(self.settings.key_dir, [o.id for o in self.offices])
        pool.authorization = {self.ports[o]: t for o, t in tokens.items()}
        return pool


async def drop_mesh_schemas(settings: OfficeSettings) -> None:
    """Every office schema of a mesh started with these settings (its `db_schema_prefix`)."""
    engine = make_engine(settings.model_copy(update={"office_id": GS_ID}))
    try:
        await drop_schemas(engine, settings.db_schema_prefix)
    finally:
        await engine.dispose()


async def _postgres_free(settings: OfficeSettings) -> int:
    engine = make_engine(settings.model_copy(update={"office_id": GS_ID}))
    try:
        async with engine.connect() as conn:
            max_conn = int((await conn.execute(sa.text("SHOW max_connections"))).scalar_one())
            used = int((await conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity"))).scalar_one())
        return max_conn - used
    finally:
        await engine.dispose()


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(
        1, signal.SIGTERM
    )  # PR_SET_PDEATHSIG: no mesh outlives the load test


class StartedMesh:
    """`interpol-mesh up` exporting its spans to files, as a child process; `stop()` ends it (also after a failed start)."""

    def __init__(
        self,
        settings: OfficeSettings,
        directory: Directory,
        *,
        ncbs: str,
        base_port: int,
        per_process: int,
        traced: bool = True,
    ) -> None:
        """`traced=False` runs the offices with OTEL_TRACES_EXPORTER=none: for a benchmark that reads
        its figures from the databases, not from spans, so the spans' CPU is not in its figures."""
        self.settings = settings
        self.traced = traced
        self.directory = directory
        self.ncbs = ncbs
        self.base_port = base_port
        self.per_process = per_process
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = settings.data_dir / "up.log"

    def start(self, timeout_s: float = 600.0) -> MeshView:
        started = time.monotonic()
        s = self.settings
        offices = select_offices(self.directory, self.ncbs)
        if s.database_url:
            need = len(offices) * 2 * s.database_pool_size
            free = asyncio.run(_postgres_free(s))
            if need > free:
                raise ConfigError(
                    f"{len(offices)} offices x {2 * s.database_pool_size} connections = {need} > {free} PostgreSQL connections "
                    "free: lower DATABASE_POOL_SIZE, raise max_connections, or run on SQLite (unset DATABASE_URL)"
                )
            asyncio.run(drop_mesh_schemas(s))
        for sub in ("db", "nats", "log", "trace"):
            shutil.rmtree(s.data_dir / sub, ignore_errors=True)
        s.data_dir.mkdir(parents=True, exist_ok=True)
        trace_dir: Path | None = (s.data_dir / "trace").resolve() if self.traced else None
        if trace_dir is not None:
            trace_dir.mkdir(parents=True)
        env = dict(os.environ)
        env.pop("NATS_URL", None)  # `up` starts its own nats-server
        env.update(
            DATA_DIR=str(s.data_dir.resolve()), LOG_LEVEL=s.log_level, DB_SCHEMA_PREFIX=s.db_schema_prefix,
            DATABASE_POOL_SIZE=str(s.database_pool_size), OTEL_TRACES_EXPORTER="file" if trace_dir else "none",
        )  # fmt: skip
        if trace_dir is not None:
            env["TRACE_DIR"] = str(trace_dir)
        else:
            env.pop("TRACE_DIR", None)
        if s.database_url:
            env["DATABASE_URL"] = s.database_url
        args = [sys.executable, "-m", "interpol_offices.cli", "up", "--ncbs", self.ncbs, "--base-port", str(self.base_port),
                "--offices-per-process", str(self.per_process)]  # fmt: skip
        with open(self.log_path, "wb") as log:  # a fresh log: "mesh ready" must be this run's
            self.process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                            preexec_fn=_die_with_parent)  # fmt: skip
        try:
            self._wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        return MeshView(
            offices=offices, ports={o.id: self.base_port + i for i, o in enumerate(offices)}, settings=s,
            trace_dir=trace_dir, processes=-(-len(offices) // self.per_process), started_in_s=time.monotonic() - started,
        )  # fmt: skip

    def _wait_ready(self, timeout_s: float) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            assert self.process is not None
            if self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
                seen = re.search(r"see (\S+\.log)", tail[-1] if tail else "")
                if seen and Path(seen.group(1)).exists():
                    tail += Path(seen.group(1)).read_text(errors="replace").strip().splitlines()[-3:]
                raise DependencyUnavailable(
                    f"`interpol-mesh up` exited ({self.process.returncode}): " + " | ".join(tail)
                )
            if "mesh ready" in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.5)
        raise DependencyUnavailable(f"mesh not ready within {timeout_s:.0f} s; see {self.log_path}")

    def pids(self) -> list[int]:
        """The supervisor and everything under it (office processes, nats-server)."""
        if self.process is None:
            return []
        out = subprocess.run(["ps", "-eo", "pid,ppid"], capture_output=True, text=True, check=False).stdout.split("\n")[
            1:
        ]
        children: dict[int, list[int]] = {}
        for line in out:
            if line.strip():
                pid, ppid = (int(x) for x in line.split())
                children.setdefault(ppid, []).append(pid)
        found, stack = [self.process.pid], [self.process.pid]
        while stack:
            for child in children.get(stack.pop(), []):
                found.append(child)
                stack.append(child)
        return found

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def attach(url: str, settings: OfficeSettings, directory: Directory, ncbs: str) -> MeshView:
    """A mesh started by `interpol-mesh up --ncbs NCBS`; `url` is its first office, the GS.

    Ports from `attach_layout`, the one layout `interpol-mesh status` uses too: DATA_DIR/mesh.json
    when it describes the mesh at `url`, else `up`'s single-topology formula.
    """
    parsed = urlparse(url)
    if not parsed.hostname or not parsed.port:
        raise ConfigError(f"--attach needs the GS base URL with its port, e.g. http://127.0.0.1:8100 (got {url!r})")
    layout = attach_layout(settings.data_dir, url, lambda: directory, ncbs)
    try:
        gs = httpx.get(f"{url.rstrip('/')}/healthz", timeout=3).json().get("office")
    except (httpx.HTTPError, ValueError):
        raise DependencyUnavailable(f"no mesh answers at {url}") from None
    if gs != GS_ID:
        raise ConfigError(f"{url} is {gs!r}, not the General Secretariat: give the mesh's first port")
    settings = settings.model_copy(update={"host": parsed.hostname})
    return MeshView(
        offices=[directory.get(o.id) for o in layout],
        ports={o.id: urlparse(o.url).port or 0 for o in layout},
        settings=settings,
        trace_dir=None,
    )
