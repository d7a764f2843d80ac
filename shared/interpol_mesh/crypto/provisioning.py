"""Create the keys of a whole mesh for development: one Ed25519 key per office plus the GS root.

In production each office generates its own key and only the public half reaches the GS;
this bootstrap exists so that `make run` works on a fresh machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from interpol_mesh.crypto.key_directory import KeyDirectoryDocument, KeyRecord, sign_directory
from interpol_mesh.crypto.keys import generate_signer, read_private_key, write_private_key
from interpol_mesh.directory import GS_ID, Directory, office_name

ROOT_KEY_FILE = "gs-root.key"
TRUST_ANCHOR_FILE = "trust-anchor.pub"
BOOTSTRAP_DIRECTORY_FILE = "directory.signed.json"


def key_file(key_dir: Path, office_id: str) -> Path:
    return key_dir / f"{office_name(office_id, 'file')}.key"


@dataclass(frozen=True)
class ProvisionResult:
    created: list[str]
    existing: list[str]


def provision_keys(directory: Directory, key_dir: Path, now: datetime) -> ProvisionResult:
    """Create missing keys (never overwrite one) and (re)write the bootstrap key directory."""
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    created: list[str] = []
    existing: list[str] = []
    root_path = key_dir / ROOT_KEY_FILE
    if root_path.exists():
        root = read_private_key(root_path, expected_office=GS_ID)
    else:
        root = generate_signer(GS_ID, now)
        root = type(root)(f"gs-root/{root.key_id.split('/', 1)[1]}", GS_ID, root._key)
        write_private_key(root, root_path)
    (key_dir / TRUST_ANCHOR_FILE).write_text(root.public_key_b64() + "\n")
    records = []
    for office_id in sorted(directory.offices):
        path = key_file(key_dir, office_id)
        if path.exists():
            signer = read_private_key(path, expected_office=office_id)
            existing.append(office_id)
        else:
            signer = generate_signer(office_id, now)
            write_private_key(signer, path)
            created.append(office_id)
        records.append(
            KeyRecord(key_id=signer.key_id, office_id=office_id, public_key=signer.public_key_b64(), valid_from=now)
        )
    document = KeyDirectoryDocument(version=1, issued_at=now, keys=tuple(records))
    (key_dir / BOOTSTRAP_DIRECTORY_FILE).write_bytes(sign_directory(document, root))
    return ProvisionResult(created=created, existing=existing)
