"""An office process's memory stays flat under oversized, chunked and slow anonymous request bodies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from conftest import MeshFactory
from interpol_mesh.app.limits import DEFAULT_BODY_BYTES
from interpol_mesh.testing.harness import wait_until
from interpol_mesh.testing.plugin import OfficeSpawner
from interpol_mesh.testing.processes import OfficeProcess

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]

GIB = 1024**3
MIB = 1024**2


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def _stream(total: int) -> AsyncIterator[bytes]:
    """`total` bytes in 1 MiB chunks of one buffer: the test never holds the body either."""
    block = b"7" * MIB
    for _ in range(total // MIB):
        yield block


async def _office(mesh_factory: MeshFactory, spawn: OfficeSpawner, **env: str) -> OfficeProcess:
    mesh = mesh_factory()
    await mesh.provision()
    office = spawn(mesh, "ncb.es", RELAY_ENABLED="false", **env)
    await asyncio.to_thread(office.start)
    return office


async def test_a_1_gib_tokenless_post_leaves_the_office_rss_flat(
    make_mesh: MeshFactory, office_processes: OfficeSpawner
) -> None:
    office = await _office(make_mesh, office_processes)
    assert office.process is not None
    async with httpx.AsyncClient(base_url=office.url, timeout=60) as anonymous:
        for path in ("/v1/messages", "/v1/messages/batch"):  # warm every code path once
            await anonymous.post(path, json={})
            await anonymous.post(path, content=_stream(16 * MIB))
        before = rss_bytes(office.process.pid)
        declared = await anonymous.post(
            "/v1/messages",
            content=_stream(GIB),
            headers={"Content-Length": str(GIB), "Content-Type": "application/json"},
        )
        chunked = await anonymous.post("/v1/messages/batch", content=_stream(GIB))
        after = rss_bytes(office.process.pid)
    print(f"ncb.es RSS before {before / MIB:.1f} MiB, after two 1 GiB POSTs {after / MIB:.1f} MiB")
    assert declared.status_code == 413 and "larger than" in declared.json()["detail"]
    assert chunked.status_code == 413 and "larger than" in chunked.json()["detail"]
    assert after - before < 50 * 1000 * 1000, f"RSS grew by {(after - before) / MIB:.0f} MiB"


async def _open(office: OfficeProcess, head: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", office.port)
    writer.write(head.encode())
    await writer.drain()
    return reader, writer


def _head(**headers: str) -> str:
    lines = ["POST /v1/messages HTTP/1.1", "Host: office", "Content-Type: application/json"]
    return "\r\n".join(lines + [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]) + "\r\n\r\n"


async def _status(reader: asyncio.StreamReader) -> int:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=15)
    return int(head.split(b" ", 2)[1])


async def test_slow_bodies_hold_a_bounded_share_and_the_rest_get_503_then_service_resumes(
    make_mesh: MeshFactory, office_processes: OfficeSpawner
) -> None:
    office = await _office(
        make_mesh,
        office_processes,
        MAX_CONCURRENT_REQUESTS="2",
        MAX_INFLIGHT_BODY_BYTES=str(300_000),
        REQUEST_BODY_DEADLINE_S="600",  # this test holds slow bodies on purpose; the deadline has its own test
    )
    # A slow chunked body is answered 413 as soon as it passes the limit, while the client still holds it open.
    reader, writer = await _open(office, _head(Transfer_Encoding="chunked"))
    chunk = 64 * 1024
    for _ in range(DEFAULT_BODY_BYTES // chunk + 1):
        writer.write(f"{chunk:x}\r\n".encode() + b"x" * chunk + b"\r\n")
    await writer.drain()
    assert await _status(reader) == 413
    writer.close()

    async with httpx.AsyncClient(base_url=office.url, timeout=15) as anonymous:

        async def status() -> int:
            return (await anonymous.get("/v1/directory")).status_code

        # A GET's 401 would not show that the 413's request has finished (one of the two slots may still be
        # held); a 150 KB POST gets 401 only once its slot and its ~256 KiB of charged body are both released.
        await wait_until(
            lambda: _is(lambda: _post_status(anonymous, 150_000), 401), what="the 413's slot and bytes to be released"
        )
        # Two slow bodies (one declaring most of the byte budget) fill the office's two request slots.
        slow = [
            await _open(office, _head(Content_Length="200000") + "{"),
            await _open(office, _head(Content_Length="10") + "{"),
        ]
        refused = await wait_until(lambda: _refusal(anonymous), what="a 503 while both slots are held")
        assert refused.headers["retry-after"] == "1" and "in flight" in refused.json()["detail"]
        _, second = slow.pop()
        second.close()
        await wait_until(lambda: _is(status, 401), what="a freed slot to be usable again")
        too_many_bytes = await anonymous.post("/v1/messages", content=b"x" * 150_000)
        assert too_many_bytes.status_code == 503 and "bytes in flight" in too_many_bytes.json()["detail"]
        slow.pop()[1].close()
        await wait_until(
            lambda: _is(lambda: _post_status(anonymous, 150_000), 401), what="the byte budget to be released"
        )


async def _is(status: object, expected: int) -> bool:
    return await status() == expected  # type: ignore[operator,no-any-return]


async def _post_status(client: httpx.AsyncClient, size: int) -> int:
    return (await client.post("/v1/messages", content=b"x" * size)).status_code


async def _refusal(client: httpx.AsyncClient) -> httpx.Response | None:
    response = await client.get("/v1/directory")
    return response if response.status_code == 503 else None


async def test_a_trickled_body_gets_408_at_its_deadline_and_frees_its_slot(
    make_mesh: MeshFactory, office_processes: OfficeSpawner
) -> None:
    """Without a deadline, clients sending a byte now and then held every request slot for ever."""
    office = await _office(make_mesh, office_processes, MAX_CONCURRENT_REQUESTS="1", REQUEST_BODY_DEADLINE_S="1")
    reader, writer = await _open(office, _head(Content_Length="1000") + "{")  # and then nothing more
    try:
        assert await _status(reader) == 408
    finally:
        writer.close()
    async with httpx.AsyncClient(base_url=office.url, timeout=15) as anonymous:

        async def status() -> int:
            return (await anonymous.get("/v1/directory")).status_code

        await wait_until(lambda: _is(status, 401), what="the trickled body's slot to be released")
