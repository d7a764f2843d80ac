"""`interpol-mesh up`: the whole mesh on one machine, every office its own process and port.

The supervisor starts the embedded nats-server (unless NATS_URL is given), provisions keys,
starts the offices, waits until each answers /readyz, prints the table, then restarts any
office that dies. With `--topology regions` it starts the supercluster instead (three clusters
of three servers joined by gateways, on loopback, bus/supercluster.py), with R3 streams placed
per region, and attaches every office to the servers of its own region. Ctrl-C (or SIGTERM) stops everything; children also die with the parent
(PR_SET_PDEATHSIG), so no process is left behind even if the supervisor is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from interpol_mesh.auth.tokens import issue_token
from interpol_mesh.bus import BusTopology
from interpol_mesh.bus.regional_servers import RegionalServers
from interpol_mesh.bus.supercluster import LOOPBACK_PORTS, loopback_layout
from interpol_mesh.clock import SystemClock
from interpol_mesh.crypto import read_private_key
from interpol_mesh.crypto.keys import write_secret
from interpol_mesh.crypto.provisioning import key_file
from interpol_mesh.directory import Directory, Office
from interpol_mesh.errors import ConfigError, DependencyUnavailable
from interpol_mesh.natsd import NatsServer, die_with_parent, free_port_range
from interpol_mesh.provision import Deployment, provision_deployment, regional_servers, write_nats_config
from interpol_mesh.settings import OfficeSettings
from interpol_offices.ccc_router.auth import TOKEN_ROLES
from interpol_offices.ccc_router.roster import load_roster_file
from interpol_offices.ccc_router.runtime import CccRuntime
from interpol_offices.cli.mesh_file import write_mesh_file
from interpol_offices.cli.preflight import preflight

# Covers all five regions and the four working languages (see tests/test_cli_up.py).
DEV_ROLES = ["officer", "reviewer", "admin", "operator", "duty-officer", "head-of-desk"]
SAMPLE_NCBS = (
    "fr",
    "de",
    "es",
    "it",
    "gb",
    "ar",
    "br",
    "us",
    "mx",
    "cm",
    "ci",
    "ng",
    "ke",
    "za",
    "eg",
    "ma",
    "sa",
    "jp",
    "th",
    "au",
)


def select_offices(directory: Directory, ncbs: str) -> list[Office]:
    """gs, ccc, the bureaus and liaison offices, plus the chosen NCBs (`sample`, `all` or codes)."""
    fixed = [directory.get("gs"), directory.get("ccc"), *sorted(directory.of_kind("rb", "lo"), key=lambda o: o.id)]
    if ncbs == "all":
        chosen = sorted(directory.ncbs(), key=lambda o: o.id)
    else:
        codes = SAMPLE_NCBS if ncbs == "sample" else tuple(c.strip().lower() for c in ncbs.split(",") if c.strip())
        chosen = [directory.get(f"ncb.{c}") for c in codes]
    return fixed + chosen


@dataclass
class Group:
    """Offices served by one process."""

    offices: list[tuple[Office, int]]
    env: dict[str, str] = field(default_factory=dict)  # on top of the mesh's: the region's NATS_URL
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    log_path: Path | None = None

    @property
    def name(self) -> str:
        first = self.offices[0][0].id
        return first if len(self.offices) == 1 else f"{first}+{len(self.offices) - 1}"


@dataclass
class Mesh:
    settings: OfficeSettings
    groups: list[Group]
    env: dict[str, str]
    nats: NatsServer | RegionalServers | None = None
    stopping: bool = field(default=False)

    def spawn(self, group: Group) -> None:
        args = [sys.executable, "-m", "interpol_offices.cli", "serve", *(f"{o.id}={p}" for o, p in group.offices)]
        log_dir = self.settings.data_dir / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        group.log_path = log_dir / f"{group.name}.log"
        out = open(group.log_path, "ab")  # noqa: SIM115 - owned by the child
        group.process = subprocess.Popen(
            args, env={**self.env, **group.env}, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
        )
        out.close()

    def stop(self) -> None:
        self.stopping = True
        procs = [g.process for g in self.groups if g.process and g.process.poll() is None]
        for proc in procs:
            proc.terminate()
        deadline = time.monotonic() + 15
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.nats is not None:
            self.nats.stop()


def wait_ready(mesh: Mesh, deadline_s: float) -> list[str]:
    """Poll /readyz of every office; return those not ready by the deadline."""
    pending = {o.id: f"http://{mesh.settings.host}:{p}/readyz" for g in mesh.groups for o, p in g.offices}
    end = time.monotonic() + deadline_s
    with httpx.Client(timeout=2.0) as client:
        while pending and time.monotonic() < end:
            for office_id, url in list(pending.items()):
                try:
                    # "ready", not merely 200: a degraded office (relay holding, fetches failing) is not ready yet
                    if client.get(url).json().get("status") == "ready":
                        del pending[office_id]
                except (httpx.HTTPError, ValueError):
                    pass
            for g in mesh.groups:
                if g.process and g.process.poll() is not None:
                    raise DependencyUnavailable(
                        f"office {g.name} exited with code {g.process.returncode} during start-up; see {g.log_path}"
                    )
            if pending:
                time.sleep(0.25)
    return sorted(pending)


def print_table(mesh: Mesh) -> None:
    rows = [(o.id, o.kind, f"http://{mesh.settings.host}:{p}") for g in mesh.groups for o, p in g.offices]
    width = max(len(r[0]) for r in rows)
    print(f"{'office':<{width}}  kind  {'url':<26}  console")
    for office_id, kind, url in rows:
        print(f"{office_id:<{width}}  {kind:<4}  {url:<26}  {url}/docs")


def _stop_on_signal(signum: int, _frame: object) -> None:
    raise _Stop


def up(
    settings: OfficeSettings,
    directory: Directory,
    *,
    ncbs: str,
    base_port: int,
    per_process: int,
    nats_url_given: bool,
    topology: BusTopology = "single",
) -> int:
    # Explicit handlers: a shell that starts us in the background sets SIGINT to "ignore".
    signal.signal(signal.SIGINT, _stop_on_signal)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    try:
        return _up(
            settings, directory, ncbs=ncbs, base_port=base_port, per_process=per_process,
            nats_url_given=nats_url_given, topology=topology,
        )  # fmt: skip
    except _Stop:
        print("mesh stopped", flush=True)
        return 0


def _up(
    settings: OfficeSettings,
    directory: Directory,
    *,
    ncbs: str,
    base_port: int,
    per_process: int,
    nats_url_given: bool,
    topology: BusTopology,
) -> int:
    started = time.monotonic()
    if os.environ.get("BUS_TOPOLOGY", topology) != topology:
        raise ConfigError(
            f"BUS_TOPOLOGY={os.environ['BUS_TOPOLOGY']} in the environment contradicts --topology {topology}: "
            "unset it (up sets it for the offices it starts)"
        )
    if topology == "regions" and nats_url_given:
        raise ConfigError(
            "--topology regions starts its own nine nats-servers: unset NATS_URL (to attach offices to a "
            "supercluster you run yourself, give each office its region's NATS_URL, BUS_TOPOLOGY=regions "
            "and STREAM_REPLICAS=3, as deploy/k8s does)"
        )
    offices = select_offices(directory, ncbs)
    if topology == "regions":  # a process serves one region's offices: they share its NATS_URL
        offices.sort(key=lambda o: (o.bus_region or "", o.id))
    ports = list(range(base_port, base_port + len(offices)))
    preflight_ports(settings.host, ports)
    env = dict(os.environ)
    mesh = Mesh(settings=settings, groups=[], env=env)
    try:
        data_dir = settings.data_dir.resolve()
        settings = settings.model_copy(update={"data_dir": data_dir})
        deployment = provision_deployment(directory, data_dir, SystemClock().now())
        if deployment.keys_created:
            print(
                f"created keys and credentials for {deployment.keys_created} offices in {deployment.key_dir}",
                flush=True,
            )
        region_urls: dict[str, str] = {}
        if topology == "regions":
            servers = start_supercluster(directory, deployment, mesh)
            region_urls = {r: servers.url(r) for r in ("americas", "emea", "apac")}
            settings = settings.model_copy(
                update={"nats_url": region_urls["emea"], "bus_topology": "regions", "stream_replicas": 3}
            )
            mesh.settings = settings
            env.update(BUS_TOPOLOGY="regions", STREAM_REPLICAS="3")
        elif not nats_url_given:
            config = write_nats_config(directory, deployment)
            mesh.nats = NatsServer(
                store_dir=data_dir / "nats" / "store", config_path=config, log_path=data_dir / "nats.log", tls=True
            )
            mesh.nats.start()
            settings = settings.model_copy(update={"nats_url": mesh.nats.url})
            mesh.settings = settings
            print(
                f"embedded nats-server at {mesh.nats.url}: JetStream on disk, TLS, one NKey user per office", flush=True
            )
        preflight(settings, directory)
        env.update(
            NATS_URL=settings.nats_url,
            DATA_DIR=str(data_dir),
            HOST=settings.host,
        )
        if settings.database_url:
            env["DATABASE_URL"] = settings.database_url
        assigned = list(zip(offices, ports, strict=True))
        mesh.groups = make_groups(assigned, per_process, region_urls)
        write_mesh_file(data_dir, settings.host, assigned)  # for `interpol-mesh status`
        print(f"starting {len(offices)} offices in {len(mesh.groups)} processes ...", flush=True)
        for group in mesh.groups:
            mesh.spawn(group)
        late = wait_ready(mesh, deadline_s=120 + 2 * len(offices))
        if late:
            raise DependencyUnavailable(f"not ready after the start-up deadline: {', '.join(late[:10])}")
        print_table(mesh)
        tokens = write_dev_tokens(settings, directory, [o for o, _ in assigned])
        print(f"console tokens (12 h, officer/reviewer/admin) for each office: {tokens}/<office>.token", flush=True)
        print(
            f"CCC operators' console tokens (12 h, one per roster operator): {tokens}/ccc/<operator>.token", flush=True
        )
        print(
            f"mesh ready: {len(offices)} offices in {time.monotonic() - started:.1f}s; Ctrl-C stops everything",
            flush=True,
        )
        supervise(mesh)
    finally:
        mesh.stop()
    print("mesh stopped", flush=True)
    return 0


def start_supercluster(directory: Directory, deployment: Deployment, mesh: Mesh) -> RegionalServers:
    layout = loopback_layout(free_port_range(LOOPBACK_PORTS))
    servers = regional_servers(directory, deployment, layout, deployment.data_dir / "nats" / "regions")
    mesh.nats = servers
    servers.start()
    print(
        f"supercluster: {len(layout.servers)} nats-servers on loopback (three clusters joined by gateways), "
        "JetStream R3 placed per region, TLS, one NKey user per office",
        flush=True,
    )
    for region in ("americas", "emea", "apac"):
        print(f"  {region:<8} {servers.url(region)}", flush=True)
    return servers


def make_groups(assigned: list[tuple[Office, int]], per_process: int, region_urls: dict[str, str]) -> list[Group]:
    """Up to `per_process` offices per process; with regions, never two regions in one process."""
    if not region_urls:
        return [Group(assigned[i : i + per_process]) for i in range(0, len(assigned), per_process)]
    groups = []
    for region, url in region_urls.items():
        members = [a for a in assigned if a[0].bus_region == region]
        groups += [Group(members[i : i + per_process], {"NATS_URL": url}) for i in range(0, len(members), per_process)]
    return groups


def write_dev_tokens(settings: OfficeSettings, directory: Directory, offices: list[Office]) -> Path:
    """A development convenience: mesh staff tokens (12 h), readable only by this user.

    One per office (`<office>.token`, subject `dev-operator`); at the CCC also one per operator of
    its reviewed roster (`ccc/<operator id>.token`), since its console acts only for people on the
    active roster, who sign in as themselves.
    """
    folder: Path = settings.data_dir / "tokens"
    now = SystemClock().now()
    for office in offices:
        signer = read_private_key(key_file(settings.key_dir, office.id), expected_office=office.id)
        token = issue_token(signer, subject="dev-operator", audience=office.id, roles=DEV_ROLES, now=now)
        write_secret(folder / f"{office.id}.token", token.encode())
        for operator_id in _roster_operators(office, directory):
            token = issue_token(signer, subject=operator_id, audience=office.id, roles=TOKEN_ROLES, now=now)
            write_secret(folder / office.id / f"{operator_id}.token", token.encode())
    return folder


def _roster_operators(office: Office, directory: Directory) -> list[str]:
    if office.kind != "ccc":
        return []
    return [op.id for op in load_roster_file(CccRuntime().roster_file, directory).operators]


class _Stop(Exception):
    pass


def supervise(mesh: Mesh) -> None:
    try:
        while True:
            now = time.monotonic()
            for group in mesh.groups:
                proc = group.process
                if proc is not None and proc.poll() is not None and group.next_start == 0.0:
                    group.restarts += 1
                    delay = min(30.0, 2.0 ** min(group.restarts, 5))
                    print(
                        f"office {group.name} died (exit code {proc.returncode}); restarting in {delay:.0f}s",
                        flush=True,
                    )
                    group.next_start = now + delay
                elif group.next_start and now >= group.next_start:
                    group.next_start = 0.0
                    mesh.spawn(group)
                    print(f"office {group.name} restarted (restart #{group.restarts})", flush=True)
            time.sleep(0.5)
    except _Stop:
        print("\nstopping the mesh ...", flush=True)


def preflight_ports(host: str, ports: list[int]) -> None:
    import socket

    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                raise ConfigError(
                    f"port {port} on {host} is in use; choose another range with --base-port (needs {len(ports)} ports)"
                ) from None
