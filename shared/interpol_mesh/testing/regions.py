"""The supercluster for fault tests: nine real nats-servers, offices as real processes per region.

`RegionalMesh` starts the servers of a layout (loopback by default), provisions the regional R3
streams as the admin, and spawns offices attached to their own region's servers, exactly as
`interpol-mesh up --topology regions` does. Tests kill, restart and cut its parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nats.aio.client import Client

from interpol_mesh.bus import BusStatus, StreamPlan, connect, provision_topology
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.bus.permissions import inbox_prefix
from interpol_mesh.bus.regional_servers import RegionalServers
from interpol_mesh.bus.supercluster import LOOPBACK_PORTS, Layout, loopback_layout
from interpol_mesh.directory import BusRegion, Directory, load_directory
from interpol_mesh.local_mesh import KEY_EPOCH, Backend
from interpol_mesh.natsd import free_port_range
from interpol_mesh.provision import Deployment, provision_deployment, regional_servers
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.testing.processes import OfficeProcess


@dataclass
class RegionalMesh:
    root: Path
    backend: Backend
    replicas: int = 3
    layout: Layout | None = None
    netns: dict[str, str] = field(default_factory=dict)  # server name -> network namespace
    directory: Directory = field(default_factory=load_directory)
    offices: dict[str, OfficeProcess] = field(default_factory=dict)
    deployment: Deployment = field(init=False)
    servers: RegionalServers = field(init=False)

    def __post_init__(self) -> None:
        self.deployment = provision_deployment(self.directory, self.root / "mesh", KEY_EPOCH)
        layout = self.layout or loopback_layout(free_port_range(LOOPBACK_PORTS))
        self.servers = regional_servers(self.directory, self.deployment, layout, self.root / "nats", self.netns)

    @property
    def plan(self) -> StreamPlan:
        return StreamPlan(self.directory, "regions", self.replicas)

    def region_of(self, office_id: str) -> BusRegion:
        return self.directory.bus_region_of(office_id)

    def url(self, region: BusRegion) -> str:
        return self.servers.url(region)

    async def start(self) -> None:
        self.servers.start()
        admin = await self.connect_as(ADMIN_USER, "emea")
        try:
            await provision_topology(admin.jetstream(), self.plan)
        finally:
            await admin.close()

    def settings(self, office_id: str, nats_url: str | None = None) -> OfficeSettings:
        return OfficeSettings(
            office_id=office_id,
            nats_url=nats_url or self.url(self.region_of(office_id)),
            database_url=self.backend.database_url,
            db_schema_prefix=self.backend.schema_prefix,
            data_dir=self.deployment.data_dir,
            database_pool_size=2,
            bus_topology="regions",
            stream_replicas=self.replicas,
        )

    def spawn(self, office_id: str, *, nats_url: str | None = None, **env: str) -> OfficeProcess:
        """An office process attached to its region (or to `nats_url`, e.g. a proxy); not started."""
        settings = self.settings(office_id, nats_url)
        topology = {"BUS_TOPOLOGY": "regions", "STREAM_REPLICAS": str(self.replicas)}
        proc = OfficeProcess(settings, log_path=self.root / f"{office_id}.log", extra_env={**topology, **env})
        self.offices[office_id] = proc
        return proc

    async def connect_as(self, user: str, region: BusRegion, url: str | None = None) -> Client:
        """A raw connection as an office or the admin, to `region`'s servers (or to `url`)."""
        prefix = inbox_prefix(user) if user in self.directory.offices else None
        return await connect(
            url or self.url(region), f"test {user}", BusStatus(),
            nkey_seed=self.deployment.key_dir / f"{user}.nk", tls_ca=self.deployment.tls.ca, inbox_prefix=prefix,
        )  # fmt: skip

    async def stream_leader(self, stream: str) -> str:
        admin = await self.connect_as(ADMIN_USER, "emea")
        try:
            info = await admin.jetstream().stream_info(stream)
        finally:
            await admin.close()
        assert info.cluster is not None and info.cluster.leader, f"{stream} has no leader"
        return str(info.cluster.leader)

    def stop(self) -> None:
        for proc in self.offices.values():
            proc.stop()
        self.servers.stop(kill=True)
