"""Office settings: read from the environment by the entry point only, then passed in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OfficeSettings(BaseSettings):
    """Everything one office process needs to start; every field has an environment variable."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    office_id: str = Field("gs", description="Which office this process is, e.g. ncb.fr, rb.nairobi, gs, ccc.")
    nats_url: str = Field("nats://127.0.0.1:4222", description="NATS server URL(s), comma-separated.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy async URL. Unset: an SQLite file under DATA_DIR/db/. "
        "postgresql+asyncpg://... : this office's own schema in that database.",
    )
    database_pool_size: int = Field(3, ge=1, le=50, description="Connections per office (PostgreSQL).")
    db_schema_prefix: str = Field("office_", description="PostgreSQL schema of an office: prefix + office id.")
    host: str = Field("127.0.0.1", description="Interface the HTTP API listens on.")
    port: int = Field(8000, ge=1, le=65535, description="HTTP port of this office.")
    data_dir: Path = Field(Path("var"), description="Where SQLite files, keys and the embedded NATS store live.")
    directory_dir: Path | None = Field(
        None, description="Folder with the member directory CSV files (default: packaged)."
    )
    log_level: str = Field("INFO", description="Python log level.")
    nats_tls_ca: Path | None = Field(
        None, description="CA file for a tls:// NATS_URL (default: DATA_DIR/tls/ca.pem, the local development CA)."
    )
    relay_enabled: bool = Field(True, description="Publish the outbox; false holds outgoing messages (maintenance).")
    frozen_time: datetime | None = Field(
        None, description="Simulation and crash tests only: the office's clock stands still at this UTC time."
    )
    max_concurrent_requests: int = Field(
        128, ge=1, description="HTTP requests in flight at once at this office; beyond it 503 with Retry-After."
    )
    max_inflight_body_bytes: int = Field(
        32 * 1024 * 1024, ge=1, description="Request body bytes in flight at once at this office; beyond it 503."
    )
    request_body_deadline_s: float = Field(
        30.0, gt=0, description="Seconds a client has to send a request body; a slower one gets 408."
    )
    stream_replicas: int = Field(
        1, ge=1, le=5, description="JetStream replicas for the mesh streams (R3 in production)."
    )
    bus_topology: Literal["single", "regions"] = Field(
        "single",
        description="single: one nats-server. regions: the supercluster (deploy/nats/regions): each "
        "region's streams are placed in its own cluster, and the key directory is read from the region's mirror.",
    )
    otel_traces_exporter: Literal["none", "otlp", "file"] = Field(
        "none",
        description="Traces (observability/tracing.py): none (off, a no-op tracer), otlp (OTLP/HTTP to "
        "OTEL_EXPORTER_OTLP_ENDPOINT) or file (JSON lines, one span each, to TRACE_DIR/<pid>.jsonl).",
    )
    trace_dir: Path | None = Field(None, description="Where OTEL_TRACES_EXPORTER=file writes; required then.")

    @property
    def key_dir(self) -> Path:
        return self.data_dir / "keys"

    def tls_ca(self) -> Path | None:
        """The CA to trust: only for tls:// URLs; explicit setting first, then the local CA."""
        if not self.nats_url.startswith("tls://"):
            return self.nats_tls_ca
        return self.nats_tls_ca or self.data_dir / "tls" / "ca.pem"

    def nkey_seed(self, user: str) -> Path | None:
        """The NATS identity of `user`: required once the deployment has credentials at all.

        A deployment without any NKey files talks to an open server; one with them must have
        this user's file, and a missing one is reported by path (not as a refused connection).
        """
        path = self.key_dir / f"{user}.nk"
        if path.exists() or (self.key_dir / "mesh-admin.nk").exists():
            return path
        return None
