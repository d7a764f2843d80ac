"""Link faults in the supercluster (issue 9, fault tests 3, 4 and 6), under steady traffic.

3. A region cut off from the other two (its gateway link down, in network namespaces).
4. One national office's link cut (TCP proxies between it and its region's servers).
6. The trust boundaries on a server of another region, over a leaf connection, and on the
   cluster and gateway ports (mutual TLS).
Loss and duplicates are counted at the recipients' databases (link_traffic.py). The cuts last
CUT_S seconds, not the issue's minute, so the file stays within about five minutes on two cores.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from interpol_mesh.bus.tls import ensure_local_ca
from interpol_mesh.directory import BusRegion
from interpol_mesh.local_mesh import Backend
from interpol_mesh.testing.harness import wait_until
from interpol_mesh.testing.processes import OfficeProcess
from interpol_mesh.testing.regions import RegionalMesh
from interpol_mesh.testing.tcp_proxy import TcpProxy
from link_traffic import Sent, SteadyTraffic, latency, median
from netns_lab import RegionLab, require_namespaces

pytestmark = pytest.mark.slow

CUT_S = 40.0
CATCH_UP_S = 150.0


async def start_offices(mesh: RegionalMesh, urls: dict[str, str | None]) -> dict[str, OfficeProcess]:
    offices = {o: mesh.spawn(o, nats_url=url) for o, url in urls.items()}
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in offices.values()))
    return offices


def all_routes(offices: list[str]) -> list[tuple[str, str]]:
    return [(a, b) for a in offices for b in offices if a != b]


async def warm_up(traffic: SteadyTraffic) -> None:
    """Until one message of every route has landed: the mesh is flowing before the fault."""

    async def every_route_delivered() -> bool:
        done = {(s.sender, s.recipient) for s in traffic.sent if not traffic.missing([s])}
        return done >= set(traffic.routes)

    await wait_until(every_route_delivered, timeout=60, what="a first delivery on every route")


async def catch_up(traffic: SteadyTraffic, healed_at: float) -> float:
    """Seconds from the heal until the last accepted message reached its recipient's database."""
    await traffic.stop_sending()
    await wait_until(
        traffic.all_delivered,
        timeout=CATCH_UP_S,
        what=f"every accepted message after the heal (missing {len(traffic.missing())})",
    )
    return max(traffic.seen[(s.recipient, s.message_id)] for s in traffic.sent) - healed_at


def stall(traffic: SteadyTraffic, among: list[Sent]) -> str:
    """How long the messages of `among` took to reach their recipients' databases (median, max)."""
    waits = [w for s in among if (w := latency(traffic, s)) is not None]
    return f"latency median {median(waits):.1f}s max {max(waits, default=0.0):.1f}s"


# 3. A region cut off --------------------------------------------------------------------------


async def test_a_region_cut_off_waits_and_catches_up(tmp_path: Path, postgres_backend: Backend) -> None:
    require_namespaces()
    lab = RegionLab()
    mesh: RegionalMesh | None = None
    traffic: SteadyTraffic | None = None
    cut: BusRegion = "apac"
    try:
        lab.setup()
        ensure_local_ca(tmp_path / "mesh" / "tls", hosts=lab.tls_hosts())  # provisioning reuses it
        layout = lab.layout()
        mesh = RegionalMesh(tmp_path, postgres_backend, layout=layout, netns=lab.server_namespaces(layout))
        await mesh.start()
        names = ["ncb.ar", "ncb.br", "ncb.fr", "ncb.de", "ncb.jp", "ncb.au"]
        offices = await start_offices(mesh, dict.fromkeys(names))
        traffic = SteadyTraffic(mesh, offices, all_routes(names))
        traffic.start()
        await warm_up(traffic)

        def crosses(s: Sent) -> bool:
            return (mesh.region_of(s.sender) == cut) != (mesh.region_of(s.recipient) == cut)

        lab.cut(cut)
        cut_at = time.monotonic()
        await asyncio.sleep(CUT_S)  # pacing: the cut lasts CUT_S while traffic flows
        healed_at = time.monotonic()
        during = [s for s in traffic.sent if cut_at + 1 < s.at < healed_at]
        others = [s for s in during if cut not in (mesh.region_of(s.sender), mesh.region_of(s.recipient))]
        settled = [s for s in others if s.at < healed_at - 10]
        waiting = [s for s in during if crosses(s)]
        delivered_early = [
            s for s in waiting if not traffic.missing([s]) and traffic.seen[(s.recipient, s.message_id)] < healed_at
        ]
        others_missing = traffic.missing(settled)
        lab.heal(cut)

        assert others and not others_missing, (
            f"{len(others_missing)} of {len(settled)} messages between the two healthy regions did not arrive during the cut"
        )
        assert waiting and not delivered_early, f"{len(delivered_early)} messages crossed the cut while it was down"
        catch_up_s = await catch_up(traffic, healed_at)
        counts = await traffic.count()
        print(
            f"\nregion cut ({cut}, {CUT_S:.0f}s): {counts.line()} refused={len(traffic.refused)} "
            f"during-cut={len(during)} (healthy regions {len(others)}, {stall(traffic, others)}; "
            f"waiting across the cut {len(waiting)}) catch-up={catch_up_s:.1f}s after the heal"
        )
        assert traffic.refused == [], traffic.refused[:5]
        assert counts.lost == 0 and counts.duplicated == 0, counts.line()
    finally:
        if traffic is not None:
            await traffic.close()
        if mesh is not None:
            mesh.stop()
        lab.teardown()


# 4. A national office's link cut ---------------------------------------------------------------


def no_client_advertise(mesh: RegionalMesh) -> None:
    """Servers must not tell the cut office their direct addresses: nats-py adds advertised URLs to
    its pool and would reconnect around the proxies (a real cut takes the direct path down too)."""
    for path in mesh.servers.config_paths.values():
        path.write_text(path.read_text().replace("cluster {\n", "cluster {\n  no_advertise: true\n", 1))


async def test_an_office_cut_off_keeps_serving_and_catches_up(tmp_path: Path, postgres_backend: Backend) -> None:
    mesh = RegionalMesh(tmp_path, postgres_backend)
    no_client_advertise(mesh)
    proxies = [TcpProxy(s.host, s.client_port) for s in mesh.servers.layout.region("emea")]
    traffic: SteadyTraffic | None = None
    try:
        await mesh.start()
        for proxy in proxies:
            await proxy.start()
        via_proxies = ",".join(f"tls://127.0.0.1:{p.port}" for p in proxies)
        names = ["ncb.fr", "ncb.de", "ncb.jp"]
        offices = await start_offices(mesh, {"ncb.fr": via_proxies, "ncb.de": None, "ncb.jp": None})
        france = offices["ncb.fr"]
        traffic = SteadyTraffic(mesh, offices, all_routes(names))
        traffic.start()
        await warm_up(traffic)
        held_before = set(await traffic.inbox_rows("ncb.fr"))

        for proxy in proxies:
            await proxy.cut()
        cut_at = time.monotonic()
        inbox_answers = 0
        async with httpx.AsyncClient(base_url=france.url, headers=france.staff_headers(), timeout=10) as client:
            while time.monotonic() < cut_at + CUT_S:  # the office serves its officers all along
                answer = await client.get("/v1/inbox")
                assert answer.status_code == 200, answer.text
                inbox_answers += 1
                await asyncio.sleep(2.0)
        healed_at = time.monotonic()
        during = [s for s in traffic.sent if cut_at + 1 < s.at < healed_at]
        from_france = [s for s in during if s.sender == "ncb.fr"]
        others = [s for s in during if "ncb.fr" not in (s.sender, s.recipient) and s.at < healed_at - 10]
        others_missing = traffic.missing(others)
        crossed = [s for s in during if "ncb.fr" in (s.sender, s.recipient) and not traffic.missing([s])]
        for proxy in proxies:
            await proxy.start()

        assert from_france, "ncb.fr accepted no sends during the cut"
        assert not others_missing, f"{len(others_missing)} messages between ncb.de and ncb.jp waited for ncb.fr"
        assert not crossed, f"{len(crossed)} messages to or from ncb.fr crossed the cut"
        assert held_before <= set(await traffic.inbox_rows("ncb.fr"))
        catch_up_s = await catch_up(traffic, healed_at)
        counts = await traffic.count()
        print(
            f"\noffice cut (ncb.fr, {CUT_S:.0f}s): {counts.line()} refused={len(traffic.refused)} "
            f"accepted by ncb.fr during the cut={len(from_france)} inbox answers={inbox_answers} "
            f"others {stall(traffic, others)} catch-up={catch_up_s:.1f}s after the heal"
        )
        assert traffic.refused == [], traffic.refused[:5]
        assert counts.lost == 0 and counts.duplicated == 0, counts.line()
    finally:
        if traffic is not None:
            await traffic.close()
        for proxy in proxies:
            await proxy.cut()
        mesh.stop()
