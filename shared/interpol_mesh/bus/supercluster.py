"""The regional layout of the bus: three clusters of three nats-servers, joined by gateways.

One cluster per CCC site (`americas` at Buenos Aires, `emea` at Lyon, `apac` at Singapore); an
office attaches to the cluster of its bus region (directory data/bus_regions.csv). The layout is
data: the same description renders the loopback supercluster of `interpol-mesh up --topology
regions` and the tests, and the production configuration in deploy/ (hosts and standard ports).
"""

from __future__ import annotations

from dataclasses import dataclass

from interpol_mesh.directory import BUS_REGIONS, BusRegion

SERVERS_PER_REGION = 3
# The ports a production server uses (NATS's own defaults); a loopback layout shifts them per server.
CLIENT_PORT, CLUSTER_PORT, GATEWAY_PORT, LEAF_PORT, MONITOR_PORT = 4222, 6222, 7222, 7422, 8222
PRODUCTION_DOMAIN = "mesh.interpol.example"  # replace with the organisation's own zone (deploy/README.md)


@dataclass(frozen=True)
class ServerSpec:
    """One nats-server of a region: its unique name and the addresses the others reach it at."""

    name: str
    region: BusRegion
    host: str
    client_port: int
    cluster_port: int
    gateway_port: int
    leaf_port: int
    monitor_port: int


@dataclass(frozen=True)
class Layout:
    servers: tuple[ServerSpec, ...]

    def region(self, region: BusRegion) -> list[ServerSpec]:
        return [s for s in self.servers if s.region == region]

    def server(self, name: str) -> ServerSpec:
        for spec in self.servers:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def client_urls(self, region: BusRegion, scheme: str = "tls") -> str:
        """NATS_URL for an office of `region`: every server of its region, so a client fails over."""
        return ",".join(f"{scheme}://{s.host}:{s.client_port}" for s in self.region(region))


def server_name(region: BusRegion, index: int) -> str:
    return f"{region}-{index}"


def production_layout(domain: str = PRODUCTION_DOMAIN) -> Layout:
    """Each server on its own host with NATS's standard ports, e.g. `emea-2.mesh.interpol.example`."""
    return Layout(
        tuple(
            ServerSpec(
                name=server_name(region, i),
                region=region,
                host=f"{server_name(region, i)}.{domain}",
                client_port=CLIENT_PORT,
                cluster_port=CLUSTER_PORT,
                gateway_port=GATEWAY_PORT,
                leaf_port=LEAF_PORT,
                monitor_port=MONITOR_PORT,
            )
            for region in BUS_REGIONS
            for i in range(1, SERVERS_PER_REGION + 1)
        )
    )


def loopback_layout(base_port: int, host: str = "127.0.0.1") -> Layout:
    """All nine servers on one machine: five consecutive blocks of nine ports from `base_port`."""
    count = len(BUS_REGIONS) * SERVERS_PER_REGION
    specs = []
    for n, (region, i) in enumerate((r, i) for r in BUS_REGIONS for i in range(1, SERVERS_PER_REGION + 1)):
        specs.append(
            ServerSpec(
                name=server_name(region, i),
                region=region,
                host=host,
                client_port=base_port + n,
                cluster_port=base_port + count + n,
                gateway_port=base_port + 2 * count + n,
                leaf_port=base_port + 3 * count + n,
                monitor_port=base_port + 4 * count + n,
            )
        )
    return Layout(tuple(specs))


LOOPBACK_PORTS = 5 * len(BUS_REGIONS) * SERVERS_PER_REGION
