"""`interpol-mesh keys ...`: create the development keys and credentials of the whole mesh."""

from __future__ import annotations

from pathlib import Path

from interpol_mesh.clock import SystemClock
from interpol_mesh.directory import load_directory
from interpol_mesh.provision import provision_deployment


def keys_init(data_dir: Path, directory_dir: Path | None) -> str:
    deployment = provision_deployment(load_directory(directory_dir), data_dir, SystemClock().now())
    return (
        f"keys in {deployment.key_dir}: {deployment.keys_created} signing keys created, {deployment.keys_kept} kept; "
        f"NATS NKeys and local TLS CA ({deployment.tls.ca}) ready"
    )
