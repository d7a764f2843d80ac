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
import nats
import pytest
from nats.js.errors import NotFoundError

from interpol_mesh.bus import subjects
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.bus.permissions import inbox_prefix
from interpol_mesh.bus.streams import direct_stream_name
from interpol_mesh.bus.tls import client_context, ensure_local_ca
from interpol_mesh.directory import BusRegion
from interpol_mesh.local_mesh import Backend
from interpol_mesh.testing.harness import wait_until
from interpol_mesh.testing.plugin import report_figures
from interpol_mesh.testing.processes import OfficeProcess
from interpol_mesh.testing.regions import RegionalMesh
from interpol_mesh.testing.tcp_proxy import TcpProxy
from link_traffic import Sent, SteadyTraffic, latency, median
from netns_lab import RegionLab, require_namespaces
from test_bus_permissions import Refusals, france_impostor_probes
from trust_probes import connect_local, peer_probe, start_leaf, unanswered

pytestmark = pytest.mark.slow

CUT_S = 60.0
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
        report_figures(
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
        report_figures(
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


# 6. The trust boundaries on another region's server, over a leaf, on the cluster ports ------------


async def test_on_another_regions_server_an_office_has_only_its_own_rights(regional_mesh: RegionalMesh) -> None:
    mesh = regional_mesh
    apac_1 = mesh.servers.layout.server("apac-1")
    refusals = Refusals()
    france = await nats.connect(
        f"tls://{apac_1.host}:{apac_1.client_port}",
        nkeys_seed=str(mesh.deployment.key_dir / "ncb.fr.nk"),
        tls=client_context(mesh.deployment.tls.ca),
        tls_hostname="127.0.0.1",
        inbox_prefix=inbox_prefix("ncb.fr"),
        error_cb=refusals.record,
        max_reconnect_attempts=0,
    )
    admin = await mesh.connect_as(ADMIN_USER, "emea")
    emea = direct_stream_name("emea")
    try:
        # Allowed, as a control: France publishes as itself from Singapore's server into Lyon's stream.
        ack = await france.jetstream().publish(subjects.direct("ncb.fr", "ncb.es"), b"as myself")
        assert ack.stream == emea

        forged = await france_impostor_probes(france, refusals)

        js = admin.jetstream()
        for subject in forged:
            with pytest.raises(NotFoundError):
                await js.get_last_msg(emea, subject)
        with pytest.raises(NotFoundError):
            await js.stream_info("SPY")
    finally:
        await france.close()
        await admin.close()

    # Routes and gateways are mutual TLS: a peer without a CA-signed certificate is refused.
    tls = mesh.deployment.tls
    for port in (apac_1.cluster_port, apac_1.gateway_port):
        said = await peer_probe(apac_1.host, port, tls.ca, tls.cert, tls.key)
        assert said["CA-signed"].startswith(b"INFO"), (port, said)  # the probe can tell a peer from a stranger
        assert b"INFO" not in said["plain"] + said["no certificate"], (port, said)
    report_figures(
        f"\nimpostor on apac-1: {len(refusals.errors)} refusals; cluster and gateway ports refused a peer without certificate"
    )


async def test_through_a_leaf_node_only_the_offices_rights_reach_the_mesh(
    regional_mesh: RegionalMesh, tmp_path: Path
) -> None:
    mesh = regional_mesh
    leaf = start_leaf(mesh, "ncb.fr", tmp_path / "leaf")
    admin = await mesh.connect_as(ADMIN_USER, "emea")
    local = await connect_local(mesh, leaf, "ncb.fr")
    emea = direct_stream_name("emea")
    js = admin.jetstream()
    try:

        async def published_through_leaf() -> bool:
            try:
                return (await local.jetstream().publish(subjects.direct("ncb.fr", "ncb.es"), b"control")).stream == emea
            except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
                return False  # the leaf is still dialling its region

        await wait_until(published_through_leaf, timeout=20, what="the leaf's link to emea")

        # Publishing as someone else, a notice, the key directory: dropped by the hub. A control
        # published after them on the same link is acked, so they would have been stored by then.
        keys_before = (await js.stream_info(subjects.KEYS_STREAM)).state.last_seq
        forged = subjects.direct("ncb.de", "ncb.es")
        for subject in (forged, subjects.notice("ncb.es"), subjects.KEY_DIRECTORY_SUBJECT):
            await local.publish(subject, b"{}")
        await local.jetstream().publish(subjects.direct("ncb.fr", "ncb.es"), b"control after")
        for subject in forged:
            with pytest.raises(NotFoundError):
                await js.get_last_msg(emea, subject)
        assert (await js.stream_info(subjects.KEYS_STREAM)).state.last_seq == keys_before

        # Reading Germany's subjects or consumer, creating a consumer or a stream: nothing answers.
        spy = await local.subscribe(f"{subjects.PREFIX}.direct.*.ncb_de")
        own = await local.subscribe(f"{inbox_prefix('ncb.fr')}.probe")
        await local.flush()

        async def own_reaches_leaf() -> bool:
            await admin.publish(f"{inbox_prefix('ncb.fr')}.probe", b"for ncb.fr")
            await admin.flush()
            try:
                await own.next_msg(timeout=0.3)
                return True
            except nats.errors.TimeoutError:
                return False

        await wait_until(own_reaches_leaf, timeout=10, what="ncb.fr's own subjects to reach the leaf")
        await admin.publish(subjects.direct("ncb.es", "ncb.de"), b"for ncb.de only")
        await wait_until(own_reaches_leaf, timeout=10, what="a second probe, after the message for ncb.de")
        assert spy.pending_msgs == 0, "a message for ncb.de reached ncb.fr's leaf"
        de = subjects.consumer_name("ncb.de")
        delivered_before = (await js.consumer_info(emea, de)).delivered.stream_seq
        assert await unanswered(local, f"$JS.API.CONSUMER.MSG.NEXT.{emea}.{de}", {"batch": 1, "no_wait": True})
        assert (await js.consumer_info(emea, de)).delivered.stream_seq == delivered_before
        assert await unanswered(
            local, f"$JS.API.CONSUMER.CREATE.{emea}.spy", {"stream_name": emea, "config": {"name": "spy"}}
        )
        with pytest.raises(NotFoundError):
            await js.consumer_info(emea, "spy")
        assert await unanswered(local, "$JS.API.STREAM.CREATE.SPY", {"name": "SPY", "subjects": ["spy.>"]})
        with pytest.raises(NotFoundError):
            await js.stream_info("SPY")

        # The limit of a leaf edge: the office's own consumer is out of reach too (the server denies
        # the non-domain JetStream API across a leaf unless the system account is shared), so an
        # office on its leaf could send but not receive; the default edge is the region's server list.
        own_consumer = f"$JS.API.CONSUMER.INFO.{emea}.{subjects.consumer_name('ncb.fr')}"
        assert await unanswered(local, own_consumer, {})
        report_figures(
            "\nleaf node of ncb.fr: publishes as itself acked; forged publishes, foreign reads, consumer and stream "
            "creation dropped by the hub; its own consumer unreachable through the leaf (JetStream API denied)"
        )
    finally:
        await local.close()
        await admin.close()
        leaf.stop()
