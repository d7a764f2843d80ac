"""The server itself refuses impostors: each office publishes and reads only what is its own."""

from __future__ import annotations

import asyncio
import json

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError

from interpol_mesh.bus import subjects
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.bus.permissions import inbox_prefix
from interpol_mesh.bus.streams import direct_stream_name
from interpol_mesh.bus.tls import client_context
from interpol_mesh.natsd import NatsServer
from interpol_mesh.provision import Deployment
from interpol_mesh.testing.harness import wait_until


class Refusals:
    def __init__(self) -> None:
        self.errors: list[str] = []

    async def record(self, exc: Exception) -> None:
        self.errors.append(str(exc))

    def about(self, subject: str) -> bool:
        # nats-py lower-cases the server message
        return any("permissions violation" in e.lower() and subject.lower() in e.lower() for e in self.errors)


async def connect_as(server: NatsServer, deployment: Deployment, user: str, refusals: Refusals) -> Client:
    return await nats.connect(
        server.url,
        nkeys_seed=str(deployment.key_dir / f"{user}.nk"),
        tls=client_context(deployment.tls.ca),
        tls_hostname="127.0.0.1",
        inbox_prefix=inbox_prefix(user) if user != ADMIN_USER else "_INBOX",
        error_cb=refusals.record,
        max_reconnect_attempts=0,
    )


async def refused(refusals: Refusals, subject: str) -> None:
    async def seen() -> bool:
        return refusals.about(subject)

    await wait_until(seen, timeout=5, what=f"the server to refuse {subject} (saw {refusals.errors})")


async def test_an_office_cannot_impersonate_read_or_publish_notices(
    nats_server: NatsServer, mesh_deployment: Deployment
) -> None:
    refusals = Refusals()
    france = await connect_as(nats_server, mesh_deployment, "ncb.fr", refusals)
    admin = await connect_as(nats_server, mesh_deployment, ADMIN_USER, Refusals())
    try:
        # Allowed, as a control: France publishes as itself.
        ack = await france.jetstream().publish(subjects.direct("ncb.fr", "ncb.es"), b"as myself")
        assert ack.seq >= 1

        forged = await france_impostor_probes(france, refusals)

        # Nothing forged reached the stream.
        js = admin.jetstream()
        for subject in forged:
            with pytest.raises(NotFoundError):
                await js.get_last_msg(direct_stream_name("emea"), subject)
        with pytest.raises(NotFoundError):
            await js.stream_info("SPY")
    finally:
        await france.close()
        await admin.close()


async def france_impostor_probes(france: Client, refusals: Refusals) -> tuple[str, ...]:
    """Everything ncb.fr's credentials must not do, each refused by the server it is connected to
    (also run against another region's server, tests/test_faults_links.py); returns the forged
    subjects, which the caller checks never reached a stream."""
    emea = direct_stream_name("emea")
    # 1. Publishing as Germany.
    forged = subjects.direct("ncb.de", "ncb.es")
    await france.publish(forged, b"pretending to be ncb.de")
    await refused(refusals, forged)

    # 2. Subscribing to Germany's inbox subjects.
    await france.subscribe(f"{subjects.PREFIX}.direct.*.ncb_de")
    await refused(refusals, f"{subjects.PREFIX}.direct.*.ncb_de")

    # 3. Publishing a published notice (only the GS may).
    await france.publish(subjects.notice("ncb.es"), b"fake notice")
    await refused(refusals, subjects.notice("ncb.es"))

    # 4. Reading Germany's durable consumer.
    next_de = f"$JS.API.CONSUMER.MSG.NEXT.{emea}.{subjects.consumer_name('ncb.de')}"
    await france.publish(next_de, json.dumps({"batch": 1, "no_wait": True}).encode(), reply=france.new_inbox())
    await refused(refusals, next_de)

    # 5. Creating a consumer of its own that would read everything, or a stream of its own.
    create = f"$JS.API.CONSUMER.CREATE.{emea}"
    await france.publish(f"{create}.spy", b"{}", reply=france.new_inbox())
    await refused(refusals, create)
    stream_create = "$JS.API.STREAM.CREATE.SPY"
    await france.publish(
        stream_create, json.dumps({"name": "SPY", "subjects": [">"]}).encode(), reply=france.new_inbox()
    )
    await refused(refusals, stream_create)

    # 6. Publishing the key directory.
    await france.publish(subjects.KEY_DIRECTORY_SUBJECT, b"{}")
    await refused(refusals, subjects.KEY_DIRECTORY_SUBJECT)
    return forged, subjects.notice("ncb.es")


async def test_the_gs_may_publish_notices_and_the_directory(
    nats_server: NatsServer, mesh_deployment: Deployment
) -> None:
    refusals = Refusals()
    gs = await connect_as(nats_server, mesh_deployment, "gs", refusals)
    try:
        await gs.jetstream().publish(subjects.notice("ncb.es"), b"a notice")
        await gs.jetstream().publish(subjects.KEY_DIRECTORY_SUBJECT, b"{}")
        await gs.flush()
        assert refusals.errors == []
    finally:
        await gs.close()


async def test_a_missing_or_wrong_credential_is_refused_at_connect(
    nats_server: NatsServer, mesh_deployment: Deployment
) -> None:
    tls = client_context(mesh_deployment.tls.ca)
    with pytest.raises(Exception, match=r"(?i)authorization|no servers"):
        await asyncio.wait_for(
            nats.connect(
                nats_server.url, tls=tls, tls_hostname="127.0.0.1", max_reconnect_attempts=0, allow_reconnect=False
            ),
            timeout=10,
        )


async def test_only_the_gs_reads_searches_and_it_answers_only_on_the_reply_it_was_given(
    nats_server: NatsServer, mesh_deployment: Deployment
) -> None:
    """An online search is core NATS, never stored: the server's permissions are its whole trust boundary."""
    france_refusals, gs_refusals = Refusals(), Refusals()
    france = await connect_as(nats_server, mesh_deployment, "ncb.fr", france_refusals)
    gs = await connect_as(nats_server, mesh_deployment, "gs", gs_refusals)
    try:

        async def answer(msg: Msg) -> None:
            await msg.respond(b"answer")

        await gs.subscribe(subjects.SEARCH_WILDCARD, queue="police_data", cb=answer)
        await gs.flush()
        reply = await france.request(subjects.search("ncb.fr"), b"search", timeout=5)  # allowed, as a control
        assert reply.data == b"answer"

        as_germany = subjects.search("ncb.de")
        await france.publish(as_germany, b"searching as ncb.de")
        await refused(france_refusals, as_germany)
        await france.subscribe(subjects.SEARCH_WILDCARD)
        await refused(france_refusals, subjects.SEARCH_WILDCARD)

        unasked = f"{inbox_prefix('ncb.fr')}.forged.1"  # the GS may not write to an inbox it was not asked on
        await gs.publish(unasked, b"a result nobody asked for")
        await refused(gs_refusals, unasked)
    finally:
        await france.close()
        await gs.close()
