"""Signing keys, the DSSE pre-authentication encoding and the GS-signed key directory."""

from interpol_mesh.crypto.key_directory import (
    KEY_DIRECTORY_TYPE,
    KeyDirectory,
    KeyDirectoryDocument,
    KeyDirectoryRejected,
    KeyRecord,
    open_directory,
    sign_directory,
)
from interpol_mesh.crypto.keys import FileSigner, Signer, generate_signer, read_private_key, write_private_key
from interpol_mesh.crypto.pae import pae
from interpol_mesh.crypto.provisioning import provision_keys

__all__ = [
    "KEY_DIRECTORY_TYPE",
    "FileSigner",
    "KeyDirectory",
    "KeyDirectoryDocument",
    "KeyDirectoryRejected",
    "KeyRecord",
    "Signer",
    "generate_signer",
    "open_directory",
    "pae",
    "provision_keys",
    "read_private_key",
    "sign_directory",
    "write_private_key",
]
