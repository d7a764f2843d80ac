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
    # Where routes and gateways listen and are reached, when not at `host` (the fault tests'
    # network namespaces put clients, the cluster and the gateway LAN on separate interfaces, so
    # one can be cut alone).
    cluster_host: str | None = None
    gateway_host: str | None = None

    @property
    def route_host(self) -> str:
        return self.cluster_host or self.host

    @property
    def gateway_listen_host(self) -> str:
        return self.gateway_host or self.host


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


@dataclass(frozen=True)
class TlsPaths:
    """Where a server finds its certificate, key and the CA that signed its peers' certificates."""

    cert: str
    key: str
    ca: str


PRODUCTION_TLS = TlsPaths(
    cert="/etc/nats/tls/server.pem", key="/etc/nats/tls/server-key.pem", ca="/etc/nats/tls/ca.pem"
)


def _tls_block(tls: TlsPaths, *, verify: bool, indent: str) -> list[str]:
    lines = [f"{indent}tls {{", f'{indent}  cert_file: "{tls.cert}"', f'{indent}  key_file: "{tls.key}"']
    lines += [f'{indent}  ca_file: "{tls.ca}"', f"{indent}  timeout: 5"]
    if verify:
        lines.append(f"{indent}  verify: true")
    return [*lines, f"{indent}}}"]


def render_server_config(
    layout: Layout, spec: ServerSpec, tls: TlsPaths, *, max_payload: int, bind: str | None = None
) -> str:
    """One server's full configuration; `auth.conf` beside it holds the deployment's users.

    Routes and gateways are mutual TLS with the mesh CA: a server joins a cluster or the
    supercluster only with a certificate the CA signed, so no client can pose as a route and
    escape its subject permissions. Leaf connections log in as an office (auth.conf), so a
    national leaf node carries exactly that office's permissions. `bind` (production: all
    interfaces) is where the server listens; the others reach it at `spec.host`, advertised.
    In production the CA that signs route and gateway certificates must sign nothing else (no
    client or leaf certificate a country holds), or its holder could join as a route.
    """
    listen = bind or spec.host
    peers = [s for s in layout.region(spec.region) if s.name != spec.name]
    lines = [
        "# Generated by interpol-mesh (interpol_mesh.bus.supercluster); run `make gen` to refresh.",
        f"# Server {spec.name} of the {spec.region} cluster; store directory on the command line (-sd).",
        f"server_name: {spec.name}",
        f"listen: {listen}:{spec.client_port}",
        # Monitoring lists every connection, user and subscription: never on the mesh's networks.
        f"http: {'127.0.0.1' if bind else spec.host}:{spec.monitor_port}",
        f"max_payload: {max_payload}",
        "max_pending: 67108864",
        'write_deadline: "10s"',
        "jetstream {",
        "  max_memory_store: 268435456",
        "  max_file_store: 10737418240",
        "}",
        *_tls_block(tls, verify=False, indent=""),
        "cluster {",
        f"  name: {spec.region}",
        f"  listen: {bind or spec.route_host}:{spec.cluster_port}",
        *([f"  advertise: {spec.route_host}:{spec.cluster_port}"] if bind else []),
        "  routes: [",
        *(f"    nats-route://{p.route_host}:{p.cluster_port}" for p in peers),
        "  ]",
        *_tls_block(tls, verify=True, indent="  "),
        "}",
        "gateway {",
        f"  name: {spec.region}",
        f"  listen: {bind or spec.gateway_listen_host}:{spec.gateway_port}",
        *([f"  advertise: {spec.gateway_listen_host}:{spec.gateway_port}"] if bind else []),
        *_tls_block(tls, verify=True, indent="  "),
        "  gateways: [",
    ]
    for region in BUS_REGIONS:
        urls = ", ".join(f'"nats://{s.gateway_listen_host}:{s.gateway_port}"' for s in layout.region(region))
        lines.append(f"    {{name: {region}, urls: [{urls}]}}")
    lines += [
        "  ]",
        "}",
        "leafnodes {",
        f"  listen: {listen}:{spec.leaf_port}",
        *([f"  advertise: {spec.host}:{spec.leaf_port}"] if bind else []),
        *_tls_block(tls, verify=False, indent="  "),
        "}",
        "include ./auth.conf",
        "",
    ]
    return "\n".join(lines)
