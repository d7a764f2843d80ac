"""Offices as real OS processes, for tests that kill -9 and restart them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from interpol_mesh.auth.tokens import issue_token
from interpol_mesh.clock import SystemClock
from interpol_mesh.crypto import read_private_key
from interpol_mesh.natsd import die_with_parent, free_port
from interpol_mesh.settings import OfficeSettings


@dataclass
class OfficeProcess:
    settings: OfficeSettings
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        s = self.settings
        env = dict(os.environ)
        env.update(NATS_URL=s.nats_url, DATA_DIR=str(s.data_dir), DB_SCHEMA_PREFIX=s.db_schema_prefix, LOG_LEVEL="INFO")
        if s.database_url:
            env["DATABASE_URL"] = s.database_url
        else:
            env.pop("DATABASE_URL", None)
        env.update(self.extra_env)
        return env

    def start(self, timeout_s: float = 60.0) -> None:
        out = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            [sys.executable, "-m", "interpol_offices.cli", "serve", f"{self.settings.office_id}={self.port}"],
            env=self.env(), stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
        )  # fmt: skip
        out.close()
        end = time.monotonic() + timeout_s
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < end:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.settings.office_id} exited ({self.process.returncode}); see {self.log_path}"
                    )
                try:
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"{self.settings.office_id} not ready within {timeout_s}s; see {self.log_path}")

    def staff_headers(self, roles: tuple[str, ...] = ("officer", "reviewer", "admin")) -> dict[str, str]:
        """A bearer token for this office's API, signed with its key as `interpol-mesh token issue` does."""
        signer = read_private_key(self.settings.key_dir / f"{self.settings.office_id}.key")
        token = issue_token(
            signer, subject="test-officer", audience=self.settings.office_id, roles=list(roles), now=SystemClock().now()
        )
        return {"Authorization": f"Bearer {token}"}

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
