"""Find a PostgreSQL for the tests: TEST_DATABASE_URL, else a throwaway local cluster, else say why not."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from interpol_mesh.natsd import free_port


@dataclass
class PostgresSource:
    url: str | None
    why_missing: str | None = None
    cluster_dir: Path | None = None

    def stop(self) -> None:
        if self.cluster_dir is not None:
            pg_ctl = _binary("pg_ctl")
            if pg_ctl:
                subprocess.run(
                    [pg_ctl, "-D", str(self.cluster_dir / "data"), "-m", "immediate", "stop"],
                    capture_output=True,
                    check=False,
                )
            shutil.rmtree(self.cluster_dir, ignore_errors=True)


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def find_postgres() -> PostgresSource:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return PostgresSource(url=url)
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not (initdb and pg_ctl):
        return PostgresSource(None, "TEST_DATABASE_URL is unset and no PostgreSQL binaries (initdb, pg_ctl) were found")
    if os.geteuid() == 0:
        return PostgresSource(None, "TEST_DATABASE_URL is unset and a throwaway cluster cannot be started as root")
    root = Path(tempfile.mkdtemp(prefix="interpol-mesh-pg-"))
    port = free_port()
    init = subprocess.run(
        [initdb, "-D", str(root / "data"), "-U", "postgres", "-A", "trust"], capture_output=True, check=False
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        return PostgresSource(None, f"initdb failed: {init.stderr.decode()[-300:]}")
    start = subprocess.run(
        [
            pg_ctl,
            "-D",
            str(root / "data"),
            "-l",
            str(root / "log"),
            "-w",
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
            "start",
        ],
        capture_output=True,
        check=False,
    )
    if start.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        return PostgresSource(None, f"pg_ctl start failed: {start.stderr.decode()[-300:]}")
    return PostgresSource(url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres", cluster_dir=root)
