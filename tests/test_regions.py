"""The supercluster: offices of three regions exchange messages, each attached to its own region."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from conftest import MeshFactory
from interpol_mesh.bus import StreamPlan
from interpol_mesh.bus.streams import direct_stream_name, keys_mirror_name
from interpol_mesh.directory import load_directory
from interpol_mesh.errors import ConfigError
from interpol_mesh.messaging import start_office
from interpol_mesh.testing.harness import wait_until
from interpol_mesh.testing.regions import RegionalMesh

pytestmark = pytest.mark.slow


async def test_streams_live_in_their_region_with_three_replicas(regional_mesh: RegionalMesh) -> None:
    admin = await regional_mesh.connect_as("mesh-admin", "apac")
    try:
        js = admin.jetstream()
        for region in ("americas", "emea", "apac"):
            for stream in (direct_stream_name(region), *([keys_mirror_name(region)] if region != "emea" else [])):
                info = await js.stream_info(stream)
                assert info.cluster is not None and info.cluster.name == region, stream
                names = {info.cluster.leader, *(r.name for r in info.cluster.replicas or [])}
                assert names == {f"{region}-1", f"{region}-2", f"{region}-3"}, (stream, names)
                assert info.config.num_replicas == 3
        consumer = await js.consumer_info(direct_stream_name("apac"), "inbox_ncb_jp")
        assert consumer.cluster is not None and consumer.cluster.name == "apac"
        assert len(consumer.cluster.replicas or []) == 2  # durable and replicated like its stream
    finally:
        await admin.close()


async def test_a_message_crosses_regions_and_its_receipts_come_back(regional_mesh: RegionalMesh) -> None:
    offices = {o: regional_mesh.spawn(o) for o in ("ncb.ar", "ncb.fr", "ncb.jp")}
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in offices.values()))
    argentina = offices["ncb.ar"]
    async with httpx.AsyncClient(base_url=argentina.url, headers=argentina.staff_headers(), timeout=10) as client:
        sent = await client.post(
            "/v1/diffusions",
            json={
                "recipients": ["ncb.fr", "ncb.jp"],
                "language": "es-AR",
                "body": {"diffusion_type": "wanted-person", "title": "Búsqueda", "text": "Localizar a la persona."},
            },
        )
        assert sent.status_code in (200, 201, 202), sent.text
        message_id = sent.json()["message_id"]

        async def delivered_everywhere() -> bool:
            rows = (await client.get(f"/v1/sent/{message_id}")).json()["recipients"]
            return all(r["delivered_at"] for r in rows)

        await wait_until(
            delivered_everywhere, timeout=30, what="delivered receipts from Lyon's and Singapore's regions"
        )
    for office_id in ("ncb.fr", "ncb.jp"):
        office = offices[office_id]
        async with httpx.AsyncClient(base_url=office.url, headers=office.staff_headers(), timeout=10) as client:
            inbox = (await client.get("/v1/inbox")).json()
            items = inbox["items"] if isinstance(inbox, dict) else inbox
            assert [i["message_id"] for i in items] == [message_id], office_id


async def test_the_key_directory_the_gs_publishes_reaches_every_region(regional_mesh: RegionalMesh) -> None:
    gs = regional_mesh.spawn("gs")
    await asyncio.to_thread(gs.start)
    admin = await regional_mesh.connect_as("mesh-admin", "americas")
    try:
        js = admin.jetstream()

        async def origin() -> bytes | None:
            try:
                return bytes((await js.get_last_msg("MESH_KEYS", "mesh.v1.keys.directory")).data or b"") or None
            except Exception:
                return None

        published = await wait_until(origin, timeout=30, what="the GS to publish the key directory in Lyon")
        for region in ("americas", "apac"):

            async def mirrored(region: str = region) -> bool:
                try:
                    last = await js.get_last_msg(keys_mirror_name(region), "mesh.v1.keys.directory")
                except Exception:
                    return False
                return bytes(last.data or b"") == published

            await wait_until(mirrored, timeout=30, what=f"{region}'s mirror of the key directory")
    finally:
        await admin.close()


def test_an_office_outside_lyon_reads_its_regions_mirror_first_and_the_origin_last() -> None:
    """A mirror can lag after a cut; only MESH_KEYS can say a key is unknown (keyring.refresh)."""
    directory = load_directory()
    regions, single = StreamPlan(directory, "regions", 3), StreamPlan(directory)
    assert regions.key_streams("ncb.jp") == ("MESH_KEYS_APAC", "MESH_KEYS")
    assert regions.key_streams("ncb.fr") == ("MESH_KEYS",) == single.key_streams("ncb.jp")


async def test_an_office_whose_bus_topology_does_not_match_the_bus_stops_with_one_line(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.provision()  # one server: no regional mirrors
    settings = mesh.settings("ncb.jp").model_copy(update={"bus_topology": "regions"})
    role = mesh.role_for(mesh.directory.get("ncb.jp"))
    with pytest.raises(ConfigError, match=r"MESH_KEYS_APAC is missing .*BUS_TOPOLOGY=regions does not match"):
        await start_office(settings, role, directory=mesh.directory)
