"""Run the nine servers of a supercluster layout on this machine (`up --topology regions`, tests).

Each server gets its own folder (configuration, store, log) under one root, the same
`auth.conf` (one user per office: the trust boundaries hold on every server) and the mesh's
TLS files for clients, routes, gateways and leaf connections. The supercluster is ready when
every server reports the same JetStream meta leader; streams can be placed only then.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from interpol_mesh.bus.supercluster import Layout, ServerSpec, TlsPaths, render_server_config
from interpol_mesh.directory import BusRegion
from interpol_mesh.errors import DependencyUnavailable
from interpol_mesh.natsd import MAX_PAYLOAD_BYTES, NatsServer


def write_server_configs(root: Path, layout: Layout, *, auth: str, tls: TlsPaths) -> dict[str, Path]:
    paths = {}
    for spec in layout.servers:
        conf_dir = root / spec.name / "conf"
        conf_dir.mkdir(parents=True, exist_ok=True)
        (conf_dir / "auth.conf").write_text(auth)
        path = conf_dir / "nats-server.conf"
        path.write_text(render_server_config(layout, spec, tls, max_payload=MAX_PAYLOAD_BYTES))
        paths[spec.name] = path
    return paths


def monitor(spec: ServerSpec, endpoint: str, timeout_s: float = 2.0) -> dict[str, object]:
    """One of the server's monitoring endpoints (`jsz`, `varz`, `gatewayz`...), as JSON."""
    with urllib.request.urlopen(f"http://{spec.host}:{spec.monitor_port}/{endpoint}", timeout=timeout_s) as resp:
        data: dict[str, object] = json.loads(resp.read())
        return data


def meta_leader(spec: ServerSpec) -> str | None:
    try:
        meta = monitor(spec, "jsz").get("meta_cluster")
    except (OSError, ValueError):
        return None
    leader = meta.get("leader") if isinstance(meta, dict) else None
    return leader if isinstance(leader, str) and leader else None


def current_peers(leader: ServerSpec) -> set[str]:
    """The meta group's peers that the leader reports as current (only the leader knows)."""
    try:
        meta = monitor(leader, "jsz").get("meta_cluster")
    except (OSError, ValueError):
        return set()
    replicas = meta.get("replicas") if isinstance(meta, dict) else None
    return {str(r.get("name")) for r in replicas or [] if isinstance(r, dict) and r.get("current")}


@dataclass
class RegionalServers:
    layout: Layout
    root: Path
    config_paths: dict[str, Path]
    netns: dict[str, str] = field(default_factory=dict)  # server name -> namespace (fault tests)
    servers: dict[str, NatsServer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for spec in self.layout.servers:
            self.servers[spec.name] = NatsServer(
                store_dir=self.root / spec.name / "store",
                port=spec.client_port,
                config_path=self.config_paths[spec.name],
                log_path=self.root / spec.name / "nats.log",
                tls=True,
                host=spec.host,
                netns=self.netns.get(spec.name),
            )

    def url(self, region: BusRegion) -> str:
        return self.layout.client_urls(region)

    def start(self, timeout_s: float = 60.0) -> None:
        for server in self.servers.values():
            server.launch()
        for server in self.servers.values():
            server.wait_listening(timeout_s)
        self.wait_meta_leader(timeout_s)

    def wait_meta_leader(self, timeout_s: float = 60.0, among: list[str] | None = None) -> str:
        """Until every server named (default: all running) agrees on one JetStream meta leader, and
        that leader counts every one of them as current: only then can a stream be placed in any
        region (before, the leader may not yet know a region's peers and refuses the placement)."""
        names = among or [n for n, s in self.servers.items() if s.process and s.process.poll() is None]
        end = time.monotonic() + timeout_s
        seen: set[str | None] = set()
        while time.monotonic() < end:
            seen = {meta_leader(self.layout.server(n)) for n in names}
            if len(seen) == 1 and None not in seen:
                leader = str(next(iter(seen)))
                if leader in names and set(names) - {leader} <= current_peers(self.layout.server(leader)):
                    return leader
            time.sleep(0.2)
        raise DependencyUnavailable(
            f"the supercluster elected no JetStream meta leader within {timeout_s:.0f}s: {seen}"
        )

    def kill(self, name: str) -> None:
        """kill -9: what a crashed host does; the store stays for the restart."""
        self.servers[name].stop(kill=True)

    def restart(self, name: str, timeout_s: float = 30.0) -> None:
        self.servers[name].start(timeout_s)

    def stop(self, kill: bool = False) -> None:
        for server in self.servers.values():
            server.signal_stop(kill)
        for server in self.servers.values():
            server.wait_stopped()
