"""The client layer on a real three-server JetStream cluster: kill -9 the server an office is
connected to, or the stream leader's, while messages flow through an R3 stream and an R3 durable
consumer. The connection moves to a live server of its list, the pull loop survives the elections,
and every message is received; the figures (reconnect, stall) are printed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig

from interpol_mesh.bus.connection import MAX_OUTSTANDING_PINGS, PING_INTERVAL_S, BusStatus, connect
from interpol_mesh.bus.puller import BatchPuller
from interpol_mesh.natsd import NatsServer, free_port
from interpol_mesh.testing.harness import wait_until

pytestmark = pytest.mark.slow

MESSAGES = 600


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[NatsServer]]:
    """Three servers in one cluster, JetStream on each; no security (the client layer is under test)."""
    ports = [(free_port(), free_port()) for _ in range(3)]
    servers = []
    for i, (client_port, cluster_port) in enumerate(ports):
        routes = ", ".join(f"nats-route://127.0.0.1:{p}" for j, (_, p) in enumerate(ports) if j != i)
        conf = tmp_path / f"n{i}.conf"
        conf.write_text(
            f"server_name: n{i}\njetstream {{ max_file_store: 1073741824 }}\n"
            f"cluster {{ name: failover, listen: 127.0.0.1:{cluster_port}, routes: [{routes}] }}\n"
        )
        server = NatsServer(store_dir=tmp_path / f"n{i}", port=client_port, config_path=conf,
                            log_path=tmp_path / f"n{i}.log")  # fmt: skip
        servers.append(server)
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop(kill=True)


async def _stream_ready(nc: Client) -> bool:
    js = nc.jetstream(timeout=2.0)
    try:
        await js.add_stream(StreamConfig(name="F", subjects=["f.>"], storage=StorageType.FILE, num_replicas=3))
        await js.add_consumer("F", ConsumerConfig(durable_name="c", ack_policy=AckPolicy.EXPLICIT, ack_wait=10))
    except Exception:  # no meta leader yet
        return False
    return True


class Flow:
    """A producer retrying each message until acked (as the relay does) and the pull loop of the inbox."""

    def __init__(self, nc: Client, status: BusStatus) -> None:
        self.nc, self.status = nc, status
        self.acked = 0
        self.acked_at: list[float] = []
        self.received: Counter[str] = Counter()
        self.arrivals: list[float] = []
        self.fetch_errors: Counter[str] = Counter()
        self.done = asyncio.Event()
        self.unaccounted_bytes: int | None = None  # bytes nats-py still counts against pending_bytes_limit

    async def produce(self) -> None:
        js = self.nc.jetstream(timeout=3.0)
        for i in range(MESSAGES):
            while True:
                try:
                    await js.publish(f"f.{i % 7}", json.dumps(i).encode(), headers={"Nats-Msg-Id": str(i)})
                    break
                except Exception:
                    await asyncio.sleep(0.2)  # the relay's steady retry, condensed
            self.acked += 1
            self.acked_at.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def consume(self) -> None:
        puller = BatchPuller(self.nc, "F", "c", status=self.status)
        await puller.start()
        try:
            while len(self.received) < MESSAGES:
                try:
                    batch = await puller.next_batch(idle_wait=2.0)
                except Exception as exc:
                    self.fetch_errors[type(exc).__name__] += 1
                    await asyncio.sleep(0.25)
                    continue
                for msg in batch:
                    self.received[msg.data.decode()] += 1
                    self.arrivals.append(time.monotonic())
                await asyncio.gather(*(m.ack() for m in batch), return_exceptions=True)
            assert puller._sub is not None
            queued = puller._sub._pending_queue._queue  # type: ignore[attr-defined]
            self.unaccounted_bytes = puller._sub._pending_size - sum(len(m.data) for m in queued)
        finally:
            await puller.stop()
            self.done.set()


async def _leader_port(nc: Client, servers: list[NatsServer]) -> int:
    info = await nc.jetstream(timeout=2.0).stream_info("F")
    assert info.cluster is not None and info.cluster.leader is not None
    return servers[int(info.cluster.leader.removeprefix("n"))].port


@pytest.mark.parametrize("victim", ["connected-server", "stream-leader", "frozen-server"])
async def test_kill_9_of_one_server_moves_the_client_and_loses_nothing(cluster: list[NatsServer], victim: str) -> None:
    status = BusStatus()
    url = ",".join(s.url for s in cluster)
    nc = await connect(url, "failover test", status)
    try:
        await wait_until(lambda: _stream_ready(nc), timeout=30, what="the JetStream cluster to elect a meta leader")
        flow = Flow(nc, status)
        tasks = [asyncio.create_task(flow.produce()), asyncio.create_task(flow.consume())]
        try:

            async def flowing() -> bool:
                return len(flow.received) >= MESSAGES // 4

            await wait_until(flowing, what="messages flowing before the kill")
            connected = nc.connected_url
            assert connected is not None
            port = connected.port if victim != "stream-leader" else await _leader_port(nc, cluster)
            target = next(s for s in cluster if s.port == port)
            moved = port == connected.port  # the client's own server goes: it must move
            received_before = len(flow.arrivals)
            killed = time.monotonic()
            if victim == "frozen-server":  # a dead host or a cut link: no RST, only silence
                assert target.process is not None
                target.process.send_signal(signal.SIGSTOP)
            else:
                target.stop(kill=True)

            async def reconnected() -> bool:
                return not moved or (status.reconnects >= 1 and nc.is_connected)

            await wait_until(reconnected, timeout=40, what="the client to reconnect to another server")
            reconnect_s = time.monotonic() - killed

            async def resumed() -> bool:
                return len(flow.arrivals) > received_before and flow.arrivals[-1] > killed

            await wait_until(resumed, timeout=60, what="delivery after the kill")
            await asyncio.wait_for(flow.done.wait(), timeout=90)
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for server in cluster:
                if server.process is not None and server.process.poll() is None:
                    server.process.send_signal(signal.SIGCONT)
        after = [t for t in flow.arrivals if t > killed]
        stall = after[0] - killed
        publish_stall = next(t for t in flow.acked_at if t > killed) - killed
        assert sorted(flow.received, key=int) == [str(i) for i in range(MESSAGES)], "every message received"
        assert flow.unaccounted_bytes == 0, "every message taken off the queue is accounted for"
        redelivered = sum(n - 1 for n in flow.received.values())
        now_url = nc.connected_url
        print(
            f"\n[failover-cluster] {'SIGSTOP' if victim == 'frozen-server' else 'kill -9'} of the {victim} (port {port}): client "
            f"{'reconnected to ' + (now_url.netloc if now_url else '?') + f' in {reconnect_s:.2f} s' if moved else 'stayed'}; "
            f"publishing stalled {publish_stall:.2f} s, delivery {stall:.2f} s; {MESSAGES} received, {redelivered} redelivered "
            f"(the inbox's dedupe drops those), fetch errors {dict(flow.fetch_errors)}"
        )
        if moved:
            assert nc.connected_url is not None and nc.connected_url.port != port
        if victim == "frozen-server":  # found stale by the client's pings (bus/connection.py)
            silence = PING_INTERVAL_S * (MAX_OUTSTANDING_PINGS + 1)
            assert reconnect_s < silence + 5.0, f"a silent server noticed after {reconnect_s:.1f} s"
            assert stall < silence + 20.0
        else:
            assert reconnect_s < 5.0
            assert stall < 15.0
    finally:
        await nc.close()
