"""Ed25519 signing keys on disk (0600, never logged) behind a narrow Signer interface.

An HSM-backed signer can replace FileSigner later: the rest of the code only sees `Signer`.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from nacl.signing import SigningKey

from interpol_mesh.errors import ConfigError


class Signer(Protocol):
    @property
    def key_id(self) -> str: ...

    @property
    def office_id(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...

    def public_key_b64(self) -> str: ...


@dataclass(frozen=True, repr=False)
class FileSigner:
    """A software Ed25519 key; `repr` omits the secret so it cannot leak into logs."""

    key_id: str
    office_id: str
    _key: SigningKey

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message).signature

    def public_key_b64(self) -> str:
        return base64.b64encode(bytes(self._key.verify_key)).decode()

    def __repr__(self) -> str:
        return f"FileSigner(key_id={self.key_id!r}, office_id={self.office_id!r})"


def new_key_id(office_id: str, when: datetime) -> str:
    return f"{office_id}/{when.strftime('%Y%m%dT%H%M%S')}-{os.urandom(3).hex()}"


def generate_signer(office_id: str, when: datetime) -> FileSigner:
    return FileSigner(new_key_id(office_id, when), office_id, SigningKey.generate())


def write_secret(path: Path, data: bytes) -> None:
    """Write a secret readable by its owner only (created 0600, never widened), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def write_private_key(signer: FileSigner, path: Path) -> None:
    """Write the key file readable by its owner only (created 0600, never widened)."""
    data = json.dumps(
        {
            "office_id": signer.office_id,
            "key_id": signer.key_id,
            "seed": base64.b64encode(bytes(signer._key)).decode(),
        }
    ).encode()
    write_secret(path, data)


def read_private_key(path: Path, expected_office: str | None = None) -> FileSigner:
    """Load a key file; refuse one that other users could read, like ssh does."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        raise ConfigError(
            f"signing key not found: {path} (create the mesh keys with `interpol-mesh keys init`)"
        ) from None
    if mode & 0o077:
        raise ConfigError(f"signing key {path} is readable by others (mode {mode:o}); run chmod 600 {path}")
    try:
        raw = json.loads(path.read_bytes())
        signer = FileSigner(raw["key_id"], raw["office_id"], SigningKey(base64.b64decode(raw["seed"])))
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"signing key {path} is not a valid interpol-mesh key file") from None
    if expected_office is not None and signer.office_id != expected_office:
        raise ConfigError(f"signing key {path} belongs to {signer.office_id}, not {expected_office}")
    return signer
