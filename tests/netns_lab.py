"""Three "sites" on one machine: a network namespace per region, so a test can cut a region's gateways.

A plain TCP proxy cannot cut gateways: the servers gossip each other's gateway URLs and would
dial around it. Here each region's three servers share a namespace with two links:
- a veth onto one bridge, the "gateway LAN" (10.77.0.<n>/24): gateways listen and are advertised
  only there, so `ip link set <region's bridge port> down` cuts the region off the supercluster;
- a point-to-point veth to the root namespace (10.<b>.<n>.2/30) where clients (the offices, which
  run in the root namespace) connect; it stays up during a cut, like a site's own LAN.
Routes inside a region use the namespace's own loopback. Names carry a per-run tag, and
`teardown` removes everything (deleting a namespace deletes its veth ends and their peers).
"""

from __future__ import annotations

import dataclasses
import os
import random
import secrets
import subprocess
from dataclasses import dataclass, field

from interpol_mesh.bus.supercluster import LOOPBACK_PORTS, Layout, loopback_layout
from interpol_mesh.directory import BUS_REGIONS, BusRegion
from interpol_mesh.natsd import free_port_range
from interpol_mesh.testing.plugin import not_run


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def require_namespaces() -> None:
    """Skip loudly without root; in CI a machine that cannot make namespaces fails the test."""
    why = None
    if os.geteuid() != 0:
        why = "network namespaces need root (ip netns add)"
    else:
        probe = f"improbe{secrets.token_hex(3)}"
        try:
            ip("netns", "add", probe)
            ip("netns", "del", probe)
        except (RuntimeError, FileNotFoundError) as exc:
            why = f"cannot create a network namespace: {exc}"
    if why is None:
        return
    not_run(f"region cut test did not run: {why}", "capability")


@dataclass
class RegionLab:
    tag: str = field(default_factory=lambda: secrets.token_hex(2))
    octet: int = field(default_factory=lambda: random.randint(100, 250))  # 10.<octet>.n.0/30: client links
    made: list[str] = field(default_factory=list)  # namespaces
    links: list[str] = field(default_factory=list)  # root-side interfaces

    def namespace(self, region: BusRegion) -> str:
        return f"imr{self.tag}{BUS_REGIONS.index(region) + 1}"

    def bridge_port(self, region: BusRegion) -> str:
        return f"img{self.tag}{BUS_REGIONS.index(region) + 1}"

    @property
    def bridge(self) -> str:
        return f"imb{self.tag}"

    def gateway_ip(self, region: BusRegion) -> str:
        return f"10.77.0.{BUS_REGIONS.index(region) + 1}"

    def client_ip(self, region: BusRegion) -> str:
        return f"10.{self.octet}.{BUS_REGIONS.index(region) + 1}.2"

    def tls_hosts(self) -> tuple[str, ...]:
        """What the servers' certificate must name: every address a peer or client dials."""
        ips = [self.gateway_ip(r) for r in BUS_REGIONS] + [self.client_ip(r) for r in BUS_REGIONS]
        return ("127.0.0.1", "localhost", *ips)

    def setup(self) -> None:
        ip("link", "add", self.bridge, "type", "bridge")
        self.links.append(self.bridge)
        ip("link", "set", self.bridge, "up")
        for n, region in enumerate(BUS_REGIONS, start=1):
            ns = self.namespace(region)
            ip("netns", "add", ns)
            self.made.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
            # The gateway LAN: region's end inside, bridge port outside.
            port = self.bridge_port(region)
            ip("link", "add", port, "type", "veth", "peer", "name", "gw0", "netns", ns)
            self.links.append(port)
            ip("link", "set", port, "master", self.bridge)
            ip("link", "set", port, "up")
            ip("-n", ns, "addr", "add", f"{self.gateway_ip(region)}/24", "dev", "gw0")
            ip("-n", ns, "link", "set", "gw0", "up")
            # The clients' link to the root namespace.
            client = f"imc{self.tag}{n}"
            ip("link", "add", client, "type", "veth", "peer", "name", "cl0", "netns", ns)
            self.links.append(client)
            ip("addr", "add", f"10.{self.octet}.{n}.1/30", "dev", client)
            ip("link", "set", client, "up")
            ip("-n", ns, "addr", "add", f"{self.client_ip(region)}/30", "dev", "cl0")
            ip("-n", ns, "link", "set", "cl0", "up")

    def cut(self, region: BusRegion) -> None:
        ip("link", "set", self.bridge_port(region), "down")

    def heal(self, region: BusRegion) -> None:
        ip("link", "set", self.bridge_port(region), "up")

    def teardown(self) -> None:
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        for link in reversed(self.links):
            subprocess.run(["ip", "link", "del", link], capture_output=True, check=False)
        self.made.clear()
        self.links.clear()

    def layout(self) -> Layout:
        """The nine servers: clients and monitoring on the client link, routes on the namespace's
        loopback, gateways on the gateway LAN; ports as a loopback layout's, all distinct."""
        ports = loopback_layout(free_port_range(LOOPBACK_PORTS))
        return Layout(
            tuple(
                dataclasses.replace(
                    spec,
                    host=self.client_ip(spec.region),
                    cluster_host="127.0.0.1",
                    gateway_host=self.gateway_ip(spec.region),
                )
                for spec in ports.servers
            )
        )

    def server_namespaces(self, layout: Layout) -> dict[str, str]:
        return {s.name: self.namespace(s.region) for s in layout.servers}
