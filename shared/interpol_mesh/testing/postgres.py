"""Find a PostgreSQL for the tests: TEST_DATABASE_URL, else a throwaway local cluster, else say why not."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from interpol_mesh.errors import DependencyUnavailable
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


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of one test's own, which the test may restart under load.

    The machine's shared PostgreSQL serves other tests at the same time, so a fault test never
    restarts it. As root, `initdb` and `pg_ctl` refuse to run, so they run as the `postgres` user
    in a folder that user owns.
    """

    root: Path
    port: int = 0

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def create(cls) -> PrivatePostgres:
        """initdb and start; raises DependencyUnavailable saying why when it cannot."""
        initdb = _binary("initdb")
        if not (initdb and _binary("pg_ctl")):
            raise DependencyUnavailable("no PostgreSQL binaries (initdb, pg_ctl) on this machine")
        root = Path(tempfile.mkdtemp(prefix="interpol-mesh-pg-fault-"))
        cluster = cls(root, free_port())
        if os.geteuid() == 0:
            try:
                shutil.chown(root, "postgres", "postgres")
            except LookupError:
                shutil.rmtree(root, ignore_errors=True)
                raise DependencyUnavailable(
                    "running as root and there is no `postgres` user to run initdb as"
                ) from None
        cluster._run([initdb, "-D", str(cluster.data), "-U", "postgres", "-A", "trust"], "initdb")
        cluster.start()
        return cluster

    def _run(self, argv: list[str], what: str) -> None:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, check=False, timeout=120)
        if done.returncode != 0:
            raise DependencyUnavailable(f"{what} failed: {(done.stderr or done.stdout).decode()[-300:]}")

    def _pg_ctl(self, *args: str) -> None:
        pg_ctl = _binary("pg_ctl")
        assert pg_ctl is not None
        self._run([pg_ctl, "-D", str(self.data), "-l", str(self.root / "log"), "-w", *args], f"pg_ctl {args[-1]}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._pg_ctl("-o", options, "start")

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every connection is cut, as a database failover does."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._pg_ctl("-m", "fast", "-o", options, "restart")

    def halt(self) -> None:
        """`pg_ctl stop -m fast`: the database is down until `start()` (an outage of chosen length)."""
        self._pg_ctl("-m", "fast", "stop")

    def stop(self) -> None:
        """Teardown: stop the cluster and remove its folder."""
        pg_ctl = _binary("pg_ctl")
        if pg_ctl and self.data.exists():
            argv = [pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"]
            if os.geteuid() == 0:
                argv = ["runuser", "-u", "postgres", "--", *argv]
            subprocess.run(argv, capture_output=True, check=False, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
