"""Pytest plugin: real nats-server and database backends. In CI a missing service is a failure.

Outside CI, PostgreSQL tests that cannot run are reported in a loud banner at the end of the
session, never skipped quietly.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from interpol_mesh.bus import BusStatus, StreamPlan, connect, provision_topology
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.directory import load_directory
from interpol_mesh.errors import DependencyUnavailable
from interpol_mesh.natsd import NatsServer
from interpol_mesh.provision import Deployment, provision_deployment, write_nats_config
from interpol_mesh.testing.harness import KEY_EPOCH, Backend, TestMesh
from interpol_mesh.testing.postgres import PostgresSource, PrivatePostgres, find_postgres
from interpol_mesh.testing.processes import OfficeProcess
from interpol_mesh.testing.regions import RegionalMesh

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_not_run: list[str] = []
_figures: list[str] = []


def not_run(message: str, what: str = "service") -> NoReturn:
    """A test that cannot run here: a failure in CI, else skipped and listed in the NOT RUN banner."""
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a missing {what} is a failure)")
    _not_run.append(message)
    pytest.skip(message)


def report_figures(*parts: object, **_print_options: object) -> None:
    """What a fault test or benchmark-like test measured (loss, duplicates, stall): printed at once,
    and again in the session summary, so the figures are in every CI log, not only with `-s`."""
    text = " ".join(str(p) for p in parts).strip()
    _figures.append(text)
    print(text)


@pytest.fixture(scope="session")
def postgres_source() -> Iterator[PostgresSource]:
    source = find_postgres()
    yield source
    source.stop()


@pytest.fixture
def mesh_deployment(tmp_path: Path) -> Deployment:
    """Keys, NATS credentials and a local CA for every office, as `interpol-mesh up` makes them."""
    return provision_deployment(load_directory(), tmp_path / "mesh", KEY_EPOCH)


@pytest.fixture
def nats_server(tmp_path: Path, mesh_deployment: Deployment) -> Iterator[NatsServer]:
    """A fresh nats-server per test, secured as in production: TLS and one NKey user per office.

    Tests may stop, restart or kill it.
    """
    config = write_nats_config(load_directory(), mesh_deployment)
    server = NatsServer(store_dir=tmp_path / "nats", config_path=config, log_path=tmp_path / "nats.log", tls=True)
    server.start()
    asyncio.run(_provision(server, mesh_deployment))
    yield server
    server.stop(kill=True)


async def _provision(server: NatsServer, deployment: Deployment) -> None:
    """Streams and every office's consumer, created by the admin, as `interpol-mesh up` does."""
    nc = await connect(
        server.url, "test provisioning", BusStatus(),
        nkey_seed=deployment.key_dir / f"{ADMIN_USER}.nk", tls_ca=deployment.tls.ca,
    )  # fmt: skip
    try:
        await provision_topology(nc.jetstream(), StreamPlan(load_directory()))
    finally:
        await nc.close()


OfficeSpawner = Callable[..., OfficeProcess]


@pytest.fixture
def office_processes() -> Iterator[OfficeSpawner]:
    """Offices as real OS processes (for kill -9 and browser tests), stopped at teardown.

    `spawn(mesh, "ncb.es", RELAY_ENABLED="false")` builds one from the mesh's settings; the test
    starts, kills and restarts it.
    """
    started: list[OfficeProcess] = []

    def spawn(mesh: TestMesh, office_id: str, **env: str) -> OfficeProcess:
        proc = OfficeProcess(mesh.settings(office_id), log_path=mesh.root / f"{office_id}.log", extra_env=env)
        started.append(proc)
        return proc

    yield spawn
    for proc in started:
        proc.stop()


@pytest.fixture
async def regional_mesh(tmp_path: Path, postgres_backend: Backend) -> AsyncIterator[RegionalMesh]:
    """The supercluster (nine servers, R3 streams placed per region) on loopback, provisioned;
    offices are spawned by the test (`regional_mesh.spawn("ncb.fr").start()`) on PostgreSQL."""
    mesh = RegionalMesh(tmp_path, postgres_backend)
    try:
        await mesh.start()
        yield mesh
    finally:
        mesh.stop()


def require_postgres(source: PostgresSource) -> str:
    if source.url is not None:
        return source.url
    not_run(f"PostgreSQL tests did not run: {source.why_missing}")


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend(request: pytest.FixtureRequest, postgres_source: PostgresSource) -> AsyncIterator[Backend]:
    """Every storage-crossing test runs on both SQLite and PostgreSQL."""
    if request.param == "sqlite":
        yield Backend("sqlite", None)
        return
    url = require_postgres(postgres_source)
    backend = Backend("postgresql", url, schema_prefix=f"t{uuid.uuid4().hex[:10]}_")
    yield backend
    await backend.drop_schemas()


@pytest.fixture
async def postgres_backend(postgres_source: PostgresSource) -> AsyncIterator[Backend]:
    url = require_postgres(postgres_source)
    backend = Backend("postgresql", url, schema_prefix=f"t{uuid.uuid4().hex[:10]}_")
    yield backend
    await backend.drop_schemas()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of the test's own, which it may stop, start and restart under load.

    The shared PostgreSQL is never restarted (other tests use it). In CI a cluster that cannot
    be started fails the test.
    """
    try:
        cluster = PrivatePostgres.create()
    except DependencyUnavailable as exc:
        not_run(f"PostgreSQL restart tests did not run: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _figures:
        terminalreporter.write_sep("-", "figures measured by the tests")
        for text in _figures:
            terminalreporter.write_line(text)
    if _not_run:
        reasons = sorted(set(_not_run))
        terminalreporter.write_sep("!", "NOT RUN", red=True, bold=True)
        for reason in reasons:
            terminalreporter.write_line(f"{reason} ({_not_run.count(reason)} tests)", red=True, bold=True)
        terminalreporter.write_line(
            "Set TEST_DATABASE_URL=postgresql+asyncpg://user@host:port/db to run them.", red=True
        )


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip


def require_chromium() -> str:
    """Debian's chromium, driven by Playwright; never `playwright install` (nothing can be downloaded)."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    not_run(f"browser tests did not run: {CHROMIUM} is missing (apt-get install chromium)")


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    """A headless Chromium (playwright Browser) that may reach only this machine."""
    executable = require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()
