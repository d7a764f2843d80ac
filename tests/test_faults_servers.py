"""Fault tests 1, 2 and 5 of the regional mesh: servers, stream leaders, PostgreSQL and offices fail under load.

Each test runs the supercluster (nine nats-servers, R3 streams per region) with two NCBs in every
region as real processes, drives steady traffic through their HTTP APIs with the project's load
generator (`fault_traffic`), injects the fault on a schedule, and then counts at the recipients'
databases: every accepted (message, recipient) held exactly once, and its delivered receipt back at
the sender. Figures (load, stall, recovery, lost, duplicated) are printed for the CI log.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from fault_traffic import Figures, SteadyLoad, settle, start_offices
from interpol_mesh.bus.streams import direct_stream_name
from interpol_mesh.local_mesh import Backend
from interpol_mesh.testing.postgres import PrivatePostgres
from interpol_mesh.testing.regions import RegionalMesh

pytestmark = pytest.mark.slow

RATE = 25.0  # requests/s in total, about four per NCB
DURATION_S = 30.0


def in_region(mesh: RegionalMesh, offices: Iterable[str], region: str) -> frozenset[str]:
    return frozenset(o for o in offices if mesh.region_of(o) == region)


def assert_exact(figures: Figures, report: str) -> None:
    """0 lost, 0 duplicated, every delivery receipted once, and the senders' API agrees."""
    counts = (figures.lost, figures.duplicated, figures.receipts_missing, figures.receipts_duplicated)
    assert counts == (0, 0, 0, 0), report
    assert figures.api_wrong == [], report


async def test_kill9_of_one_regional_server_under_load_loses_and_duplicates_nothing(
    regional_mesh: RegionalMesh,
) -> None:
    offices = await start_offices(regional_mesh)
    stream = direct_stream_name("emea")
    leader = await regional_mesh.stream_leader(stream)
    victim = next(f"emea-{i}" for i in (1, 2, 3) if f"emea-{i}" != leader)  # a follower: test 2 kills the leader
    load = SteadyLoad(regional_mesh, offices, RATE, DURATION_S)
    load.start()
    try:
        await load.at(8)
        load.mark("kill")
        regional_mesh.servers.kill(victim)
        await load.at(18)
        load.mark("restart")
        await asyncio.to_thread(regional_mesh.servers.restart, victim)
        load.mark("restarted")
        await load.finish()
    finally:
        await load.abort()
    figures = await settle(load, "kill", focus=in_region(regional_mesh, offices, "emea"))
    report = figures.report(f"1: kill -9 of {victim} (a follower of {stream}), restarted 10 s later", load)
    assert_exact(figures, report)


async def test_kill9_of_the_stream_leader_under_load_loses_and_duplicates_nothing(
    regional_mesh: RegionalMesh,
) -> None:
    offices = await start_offices(regional_mesh)
    stream = direct_stream_name("apac")
    load = SteadyLoad(regional_mesh, offices, RATE, DURATION_S)
    load.start()
    try:
        await load.at(8)
        leader = await regional_mesh.stream_leader(stream)
        load.mark("kill")
        regional_mesh.servers.kill(leader)
        await load.at(20)
        load.mark("restart")
        await asyncio.to_thread(regional_mesh.servers.restart, leader)
        load.mark("restarted")
        await load.finish()
    finally:
        await load.abort()
    new_leader = await regional_mesh.stream_leader(stream)
    figures = await settle(load, "kill", focus=in_region(regional_mesh, offices, "apac"))
    report = figures.report(
        f"2: kill -9 of {leader}, leader of {stream} (new leader {new_leader}), restarted 12 s later", load
    )
    assert_exact(figures, report)


@pytest.fixture
async def private_mesh(tmp_path: Path, private_postgres: PrivatePostgres) -> AsyncIterator[RegionalMesh]:
    """The supercluster with its offices on a PostgreSQL of this test's own (it is restarted)."""
    mesh = RegionalMesh(tmp_path, Backend("postgresql", private_postgres.url, schema_prefix="fault_"))
    try:
        await mesh.start()
        yield mesh
    finally:
        mesh.stop()


async def test_postgres_restart_and_kill9_of_offices_under_load_lose_and_duplicate_nothing(
    private_mesh: RegionalMesh, private_postgres: PrivatePostgres
) -> None:
    offices = await start_offices(private_mesh)
    rng = random.Random(5)
    first, second = rng.sample(sorted(offices), 2)
    load = SteadyLoad(private_mesh, offices, RATE, 40.0)
    load.start()
    try:
        await load.at(6)
        load.mark("postgres")
        await asyncio.to_thread(private_postgres.restart)  # pg_ctl restart -m fast: every connection cut
        await load.at(11)
        load.mark("postgres down")
        await asyncio.to_thread(private_postgres.halt)  # then an outage of 4 s
        await load.at(15)
        await asyncio.to_thread(private_postgres.start)
        load.mark("postgres up")
        await load.at(22)
        load.mark(f"kill {first}")
        offices[first].kill9()
        await asyncio.to_thread(offices[first].start)
        load.mark(f"{first} ready")
        await load.at(30)
        load.mark(f"kill {second}")
        offices[second].kill9()
        await asyncio.to_thread(offices[second].start)
        load.mark(f"{second} ready")
        await load.finish()
    finally:
        await load.abort()
    phases = (
        ("postgres", None),
        ("postgres down", None),
        (f"kill {first}", frozenset({first})),
        (f"kill {second}", frozenset({second})),
    )
    figures = await settle(load, "postgres", phases=phases)
    report = figures.report(
        f"5: PostgreSQL restarted (-m fast) then down 4 s; kill -9 of {first} and {second}, each restarted", load
    )
    assert_exact(figures, report)
