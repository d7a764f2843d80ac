"""Clients under failover: the nats-server killed and restarted under traffic, a stream that no
one answers for, a consumer deleted. Counted at the recipient's database: nothing lost, nothing
twice, and delivery resumes by itself within seconds."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from conftest import MeshFactory
from interpol_mesh.bus import subjects
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.bus.streams import inbox_consumer
from interpol_mesh.messages import FreeTextMessage
from interpol_mesh.messaging import OfficeContext, compose
from interpol_mesh.messaging.relay import RETRY_S
from interpol_mesh.natsd import NatsServer
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until

pytestmark = pytest.mark.slow

PER_COMMIT = 10


class Traffic:
    """Steady sends from one office to another, one transaction of PER_COMMIT messages at a time."""

    def __init__(self, ctx: OfficeContext, recipient: str, pause_s: float = 0.05) -> None:
        self.ctx, self.recipient, self.pause_s = ctx, recipient, pause_s
        self.sent: list[str] = []
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            outs = [
                compose(
                    self.ctx,
                    kind="message",
                    recipients=[self.recipient],
                    body=FreeTextMessage(title=f"m{len(self.sent) + i}", text="under failover"),
                )
                for i in range(PER_COMMIT)
            ]
            async with self.ctx.transaction() as uow:
                await uow.send(*outs)
            self.sent += [o.header.message_id for o in outs]
            with contextlib.suppress(TimeoutError):  # the pace of the load, not a wait for an event
                await asyncio.wait_for(self._stop.wait(), self.pause_s)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Traffic]:
        task = asyncio.create_task(self.run())
        try:
            yield self
        finally:
            self._stop.set()
            await task


async def held_ids(mesh: TestMesh, office_id: str) -> list[str]:
    inbox = tables.inbox
    rows = await mesh.rows(office_id, sa.select(inbox.c.message_id).where(inbox.c.kind == "message"))
    return [r.message_id for r in rows]


async def held(mesh: TestMesh, office_id: str) -> int:
    return len(await held_ids(mesh, office_id))


async def assert_exactly_once(mesh: TestMesh, traffic: Traffic, recipient: str) -> None:
    async def all_in() -> bool:
        return await held(mesh, recipient) >= len(traffic.sent)

    await wait_until(all_in, timeout=60, what=f"all {len(traffic.sent)} messages at {recipient}")
    ids = await held_ids(mesh, recipient)
    assert sorted(ids) == sorted(traffic.sent), "every message exactly once at the recipient's database"
    quarantined = await mesh.scalar(recipient, sa.select(sa.func.count()).select_from(tables.quarantine))
    assert quarantined == 0, "a redelivery after the restart must be a silent no-op, not a replay"
    o = tables.outbox
    sender = traffic.ctx.office.id
    pending = await mesh.scalar(sender, sa.select(sa.func.count()).select_from(o).where(o.c.published_at.is_(None)))
    assert pending == 0


@pytest.mark.parametrize("kill", [True, False], ids=["kill-9", "graceful"])
async def test_pull_consumer_delivers_every_message_once_across_a_server_restart(
    make_mesh: MeshFactory, nats_server: NatsServer, kill: bool
) -> None:
    """nats.py issue #504 (pull subscriptions stop after a server reboot), exactly: the server goes
    away and comes back on the same port and store while messages flow."""
    mesh = make_mesh()
    await mesh.start("ncb.ar", "ncb.es")
    spain = mesh.ctx("ncb.es")
    traffic = Traffic(mesh.ctx("ncb.ar"), "ncb.es")
    async with traffic.running():
        await wait_until(lambda: _at_least(mesh, "ncb.es", 3 * PER_COMMIT), what="traffic flowing before the restart")
        nats_server.stop(kill=kill)

        async def disconnected() -> bool:
            return not spain.bus_status.connected

        await wait_until(disconnected, what="ncb.es to see the server gone")
        await asyncio.to_thread(nats_server.start)
        back = time.monotonic()
        before = await held(mesh, "ncb.es")
        await wait_until(lambda: _at_least(mesh, "ncb.es", before + 1), timeout=30, what="delivery after restart")
        stall = time.monotonic() - back
        target = len(traffic.sent) + 3 * PER_COMMIT
        await wait_until(lambda: _at_least(mesh, "ncb.es", target), timeout=30, what="traffic after the restart")
    await assert_exactly_once(mesh, traffic, "ncb.es")
    print(
        f"\n[failover] server {'kill -9' if kill else 'stop'} + restart: {len(traffic.sent)} sent, "
        f"0 lost, 0 duplicated; first delivery {stall:.2f} s after the server listened again; "
        f"ncb.es reconnects={spain.bus_status.reconnects}"
    )
    assert stall < 5.0, f"delivery stalled {stall:.1f} s after the server came back"
    ready = await mesh.client("ncb.es").get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["bus"]["reconnects"] >= 1 and ready.json()["bus"]["server"]


def _matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` is one token, `>` the rest."""
    p, t = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(t) > i
        if i >= len(t) or (token != "*" and token != t[i]):
            return False
    return len(p) == len(t)


async def _at_least(mesh: TestMesh, office_id: str, n: int) -> bool:
    return await held(mesh, office_id) >= n


async def test_relay_holds_a_subject_no_stream_answers_for_and_resumes_within_seconds_of_the_heal(
    make_mesh: MeshFactory,
) -> None:
    """No responders: nothing stores the recipient's subject (as when its region is cut off). The rows
    stay in the outbox, one probe per second tries the subject (not one publish per row), /readyz
    says so, and delivery resumes about a second after the stream takes the subject again."""
    mesh = make_mesh()
    await mesh.start("ncb.ar", "ncb.es")
    argentina = mesh.ctx("ncb.ar")
    relay = argentina.relay
    assert relay is not None
    subject = subjects.direct("ncb.ar", "ncb.es")
    admin = await mesh.connect_as(ADMIN_USER)
    try:
        js = admin.jetstream()
        # The stream that stores Argentina->Spain, found on the server (the layout is bus/streams.py's),
        # stops taking that subject: nothing answers its publishes, as when Spain's region is cut off.
        stream = await js.find_stream_name_by_subject(subject)
        full = (await js.stream_info(stream)).config
        cut = (await js.stream_info(stream)).config
        cut.subjects = [s for s in full.subjects or [] if not _matches(s, subject)] or ["mesh.v1.nothing"]
        await js.update_stream(cut)
        traffic = Traffic(argentina, "ncb.es", pause_s=0.1)
        async with traffic.running():

            async def held_subject() -> bool:
                return subject in relay.holds

            await wait_until(held_subject, what="the relay to hold the unreachable subject")
            since = time.monotonic()

            async def probed_a_few_times() -> bool:
                return relay.holds[subject].probes >= 3

            await wait_until(probed_a_few_times, what="three probes of the held subject")
            elapsed = time.monotonic() - since
            probes = relay.holds[subject].probes
            assert probes <= elapsed / RETRY_S + 2, f"{probes} probes in {elapsed:.1f} s: the relay hammers"
            ready = await mesh.client("ncb.ar").get("/readyz")
            body = ready.json()
            assert ready.status_code == 200 and body["status"] == "degraded", ready.text
            assert any("unreachable" in d and subject in d for d in body["degraded"]), body
            assert body["outbox_pending"] and body["outbox_pending"] >= PER_COMMIT, body
            assert await held(mesh, "ncb.es") == 0
            await js.update_stream(full)
            healed = time.monotonic()
            before = len(traffic.sent)

            async def lifted() -> bool:
                return subject not in relay.holds

            await wait_until(lifted, what="the relay to lift the hold after the heal")
            lifted_s = time.monotonic() - healed
            await wait_until(lambda: _at_least(mesh, "ncb.es", 1), what="the first held row at Spain")
            first_s = time.monotonic() - healed
            await wait_until(lambda: _at_least(mesh, "ncb.es", before), timeout=30, what="the held rows after the heal")
            caught_up = time.monotonic() - healed
    finally:
        await admin.close()
    await assert_exactly_once(mesh, traffic, "ncb.es")
    print(
        f"\n[failover] subject without a stream for {elapsed:.1f}+ s: {probes} probes while "
        f"{before} rows waited; after the heal: hold lifted in {lifted_s:.2f} s, first row at the recipient "
        f"in {first_s:.2f} s, all {before} in {caught_up:.2f} s"
    )
    assert lifted_s < RETRY_S + 1.5, "the relay's next probe must find the subject reachable again"
    assert first_s < 2 * RETRY_S + 3.0
    assert not relay.holds

    async def ready_again() -> bool:
        response = await mesh.client("ncb.ar").get("/readyz")
        return response.json()["status"] == "ready"

    await wait_until(ready_again, what="/readyz ready once the relay caught up")


async def test_a_deleted_consumer_is_reported_by_readyz_and_never_recreated_by_the_office(
    make_mesh: MeshFactory,
) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.es")
    spain = mesh.ctx("ncb.es")
    consumer = subjects.consumer_name("ncb.es")
    admin = await mesh.connect_as(ADMIN_USER)
    try:
        js = admin.jetstream()
        stream = await js.find_stream_name_by_subject(subjects.direct("ncb.fr", "ncb.es"))
        await js.delete_consumer(stream, consumer)

        async def reported() -> dict[str, object] | None:
            response = await mesh.client("ncb.es").get("/readyz")
            return response.json() if response.status_code == 503 else None

        body = await wait_until(reported, what="/readyz 503 for the missing consumer")
        assert any("does not exist" in r and consumer in r for r in body["reasons"]), body  # type: ignore[union-attr]
        assert any(d.startswith("inbox fetch: ") for d in body["degraded"]), body  # type: ignore[union-attr]
        consumers = [c.name for c in await js.consumers_info(stream)]
        assert consumer not in consumers, "the office must not recreate its consumer"
        assert spain.consumer is not None and spain.consumer.running, "the pull loop keeps going"
        await js.add_consumer(stream, inbox_consumer("ncb.es"))  # the admin provisions it again

        async def ready() -> bool:
            return (await mesh.client("ncb.es").get("/readyz")).status_code == 200

        await wait_until(ready, what="/readyz 200 once the admin provisioned the consumer again")
    finally:
        await admin.close()
