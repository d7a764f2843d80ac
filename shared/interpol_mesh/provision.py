"""Everything a development deployment needs before the first start, created once, never overwritten.

Signing keys for every office and the GS root (crypto), one NATS NKey per office plus the
provisioning admin (bus credentials), a local CA and server certificate (TLS), and the
nats-server configuration with one user and permission set per office.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from interpol_mesh.bus.credentials import ADMIN_USER, ensure_nkey
from interpol_mesh.bus.regional_servers import RegionalServers, write_server_configs
from interpol_mesh.bus.server_config import render_auth, write_secure_config
from interpol_mesh.bus.supercluster import Layout, TlsPaths
from interpol_mesh.bus.tls import TlsFiles, ensure_local_ca
from interpol_mesh.crypto import provision_keys
from interpol_mesh.directory import Directory


@dataclass(frozen=True)
class Deployment:
    data_dir: Path
    keys_created: int
    keys_kept: int
    tls: TlsFiles

    @property
    def key_dir(self) -> Path:
        return self.data_dir / "keys"


def provision_deployment(directory: Directory, data_dir: Path, now: datetime) -> Deployment:
    key_dir = data_dir / "keys"
    result = provision_keys(directory, key_dir, now)
    for user in (ADMIN_USER, *sorted(directory.offices)):
        ensure_nkey(key_dir, user)
    tls = ensure_local_ca(data_dir / "tls")
    return Deployment(data_dir=data_dir, keys_created=len(result.created), keys_kept=len(result.existing), tls=tls)


def write_nats_config(directory: Directory, deployment: Deployment, *, tls: bool = True) -> Path:
    """The embedded server's configuration: deploy/nats/nats-server.conf plus this deployment's users."""
    return write_secure_config(
        deployment.data_dir / "nats" / "conf", directory, deployment.key_dir, deployment.tls if tls else None
    )


def regional_servers(
    directory: Directory, deployment: Deployment, layout: Layout, root: Path, netns: dict[str, str] | None = None
) -> RegionalServers:
    """The nine servers of a supercluster, configured with this deployment's users and TLS files."""
    tls = deployment.tls
    auth = render_auth(directory, deployment.key_dir, accounts=True)
    paths = write_server_configs(root, layout, auth=auth, tls=TlsPaths(str(tls.cert), str(tls.key), str(tls.ca)))
    return RegionalServers(layout, root, paths, netns=netns or {})
