"""`interpol-mesh keys ...`: create the development keys of the whole mesh."""

from __future__ import annotations

from pathlib import Path

from interpol_mesh.clock import SystemClock
from interpol_mesh.crypto import provision_keys
from interpol_mesh.directory import load_directory


def keys_init(data_dir: Path, directory_dir: Path | None) -> str:
    result = provision_keys(load_directory(directory_dir), data_dir / "keys", SystemClock().now())
    return (
        f"keys in {data_dir / 'keys'}: {len(result.created)} created, {len(result.existing)} kept; "
        f"trust anchor {data_dir / 'keys' / 'trust-anchor.pub'}"
    )
