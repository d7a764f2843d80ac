"""Schemathesis over every role's OpenAPI: no 5xx, and every status returned is documented.

Each office of a running mesh (GS, CCC, an NCB, a regional bureau, a liaison office) is served
over real HTTP by uvicorn; schemathesis generates valid and invalid requests for every
operation of its OpenAPI and calls it with a token of a principal holding every role there
(staff of that office; at the CCC a head of desk). The run is bounded by examples per operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from ccc_support import bearer
from conftest import MeshFactory
from interpol_mesh.auth import issue_token
from interpol_mesh.natsd import free_port
from interpol_mesh.testing.harness import STAFF_ROLES, TestMesh

# PostgreSQL only: it is the stricter store (lengths, NUL bytes), and one backend keeps the run bounded.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]

ONE_PER_ROLE = ("gs", "ccc", "ncb.fr", "rb.nairobi", "lo.eu-brussels")
EXAMPLES_PER_MODE = 6
"""Per operation and generation mode (valid, invalid): about 70 operations in all."""


@contextlib.asynccontextmanager
async def served(mesh: TestMesh, office: str) -> AsyncIterator[str]:
    """The office's app (already started by the mesh) over real HTTP on a free port."""
    app = mesh.client(office)._transport.app  # type: ignore[attr-defined]
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _headers(mesh: TestMesh, office: str) -> dict[str, str]:
    if office == "ccc":
        return bearer(mesh, "sg.koh")  # a head of desk: every CCC operator action
    ctx = mesh.ctx(office)
    token = issue_token(ctx.signer, subject="schemathesis", audience=office, roles=STAFF_ROLES, now=ctx.clock.now())
    return {"Authorization": f"Bearer {token}"}


def _run(schema: Any, base_url: str, headers: dict[str, str]) -> tuple[int, list[str]]:
    """Every operation, valid and invalid data; returns the number of calls and the failures."""
    calls = 0
    failures: list[str] = []
    session = requests.Session()

    def call(case: Any) -> None:
        nonlocal calls
        calls += 1
        response = case.call(base_url=base_url, headers=headers, session=session, timeout=30)
        try:
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance])
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports a FailureGroup
            failures.append(f"{case.operation.label}: {type(exc).__name__}: {str(exc)[:800]}")

    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = st.one_of(
            operation.as_strategy(generation_mode=mode)
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
        )
        hypothesis.settings(
            max_examples=2 * EXAMPLES_PER_MODE, deadline=None, database=None, derandomize=True,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )(hypothesis.given(case=strategy)(call))()  # fmt: skip
    return calls, failures


async def test_schemathesis_finds_no_5xx_and_no_undocumented_status_in_any_role(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start(*ONE_PER_ROLE)
    started = time.monotonic()
    total = 0
    failures: list[str] = []
    for office in ONE_PER_ROLE:
        async with served(mesh, office) as url:
            spec = (await mesh.client(office).get("/openapi.json")).json()
            _every_operation_documents_its_refusals(office, spec)
            schema = schemathesis.openapi.from_dict(spec)
            calls, found = await asyncio.to_thread(_run, schema, url, _headers(mesh, office))
            total += calls
            failures += [f"{office} {f}" for f in found]
    elapsed = time.monotonic() - started
    print(f"schemathesis: {total} calls over {len(ONE_PER_ROLE)} roles in {elapsed:.1f} s")
    assert not failures, "\n\n".join(failures[:20]) + f"\n\n({len(failures)} failures)"
    assert total > 500


def _every_operation_documents_its_refusals(office: str, spec: dict[str, Any]) -> None:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            where = f"{office} {method.upper()} {path}"
            if path not in ("/healthz", "/readyz"):
                assert "503" in documented, where
            if "requestBody" in operation:
                assert {"413", "422"} <= documented, where
            if operation.get("security"):
                assert {"401", "403"} <= documented, where
