"""Per-office NATS identities (NKeys): each office connects as its own user.

The seed files sit beside the signing keys (mode 0600); the server configuration lists only
the public keys, so a stolen configuration lets nobody connect.
"""

from __future__ import annotations

import os
from pathlib import Path

import nkeys

from interpol_mesh.crypto.keys import write_secret
from interpol_mesh.errors import ConfigError

ADMIN_USER = "mesh-admin"


def nkey_path(key_dir: Path, user: str) -> Path:
    return key_dir / f"{user}.nk"


def ensure_nkey(key_dir: Path, user: str) -> bool:
    """Create the user's seed file if missing; returns whether one was created."""
    path = nkey_path(key_dir, user)
    if path.exists():
        return False
    seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
    write_secret(path, seed)
    return True


def public_nkey(key_dir: Path, user: str) -> str:
    path = nkey_path(key_dir, user)
    try:
        seed = path.read_bytes().strip()
        return str(nkeys.from_seed(bytearray(seed)).public_key.decode())
    except FileNotFoundError:
        raise ConfigError(f"NATS credential missing: {path} (create it with `interpol-mesh keys init`)") from None
    except Exception:
        raise ConfigError(f"NATS credential {path} is not a valid NKey seed") from None
