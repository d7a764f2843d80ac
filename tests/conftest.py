"""Shared fixtures: the real-infrastructure plugin plus an in-process mesh factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from interpol_mesh.clock import Clock
from interpol_mesh.natsd import NatsServer
from interpol_mesh.testing.harness import Backend, TestMesh
from interpol_offices.roles import role_for

pytest_plugins = ["interpol_mesh.testing.plugin"]

MeshFactory = Callable[..., TestMesh]


@pytest.fixture
async def make_mesh(tmp_path: Path, nats_server: NatsServer, backend: Backend) -> AsyncIterator[MeshFactory]:
    """Build in-process meshes on the test's nats-server and storage backend; closed at teardown."""
    meshes: list[TestMesh] = []

    def factory(clock: Clock | None = None) -> TestMesh:
        mesh = TestMesh(
            root=tmp_path / "mesh", nats_url=nats_server.url, backend=backend, role_for=role_for, clock=clock
        )
        meshes.append(mesh)
        return mesh

    yield factory
    for mesh in meshes:
        await mesh.close()
